//! `widget-server migrate --from sqlite://… --to postgres://…`: moves an installation
//! from SQLite to PostgreSQL — every table, attachments included — in one PostgreSQL
//! transaction that commits only after the row counts of every table match.

use std::collections::HashMap;

use anyhow::{Context, bail};
use futures_util::TryStreamExt;
use sqlx::postgres::{PgArguments, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions, SqliteRow};
use sqlx::{Arguments, AssertSqlSafe, Row};

/// Tables that others reference come first.
const ORDER: [&str; 9] = [
    "departments",
    "agents",
    "agent_departments",
    "customers",
    "chats",
    "messages",
    "kb_categories",
    "kb_articles",
    "tickets",
];

/// Tables the schema creates with their one row (replaced by the copied row).
const SINGLE_ROW: [&str; 1] = ["ticket_counter"];

/// A batch is sent when it holds this many rows or bytes.
const BATCH_ROWS: usize = 500;
const BATCH_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bool,
    Bytes,
}

/// How many rows each table held, in copy order.
pub type Counts = Vec<(String, i64)>;

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

/// Copies the SQLite database at `from` into the empty PostgreSQL database at `to`.
pub async fn sqlite_to_postgres(from: &str, to: &str) -> anyhow::Result<Counts> {
    if !from.starts_with("sqlite:") {
        bail!("--from must be a sqlite: URL (sqlite:///path/panel.db), not {from:?}");
    }
    if !is_postgres(to) {
        bail!("--to must be a postgres:// URL, not {to:?}");
    }
    // Bring the source up to date first (its own migrations), then read it only.
    let source = crate::store::sqlite::SqliteStore::open(from)
        .await
        .with_context(|| format!("cannot open {from}"))?;
    crate::store::Store::close_store(&source).await;
    let opts: SqliteConnectOptions = from.parse()?;
    let sqlite = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts.read_only(true))
        .await
        .with_context(|| format!("cannot read {from}"))?;
    let pg = PgPoolOptions::new()
        .max_connections(1)
        .connect(to)
        .await
        .with_context(|| format!("cannot connect to {to}"))?;
    crate::store::postgres::migrator()
        .run(&pg)
        .await
        .context("cannot create the PostgreSQL schema")?;

    // The kb_fts* tables are SQLite's full-text indexes; PostgreSQL computes its own.
    // The report rollup (`report_*`) is derived from the messages: not copied, the
    // first report on PostgreSQL rebuilds it.
    let mut tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%' AND name NOT LIKE 'kb_fts%' AND name NOT LIKE 'report_%' \
         ORDER BY name",
    )
    .fetch_all(&sqlite)
    .await?;
    tables.sort_by_key(|t| ORDER.iter().position(|o| o == t).unwrap_or(ORDER.len()));

    let mut tx = pg.begin().await?;
    for t in &tables {
        let rows: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
            .fetch_one(&mut *tx)
            .await
            .with_context(|| format!("table {t} has no place in the PostgreSQL schema"))?;
        if rows > 0 && !SINGLE_ROW.contains(&t.as_str()) {
            bail!("{to} already holds data ({t} has {rows} rows); migrate into an empty database");
        }
    }
    let mut counts = Vec::new();
    for t in &tables {
        if SINGLE_ROW.contains(&t.as_str()) {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {t}")))
                .execute(&mut *tx)
                .await?;
        }
        let copied = copy_table(&sqlite, &mut tx, t).await?;
        let there: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
            .fetch_one(&mut *tx)
            .await?;
        let here: i64 = sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {t}")))
            .fetch_one(&sqlite)
            .await?;
        if copied != here || there != here {
            bail!("{t}: {here} rows in SQLite but {there} in PostgreSQL; nothing was committed");
        }
        counts.push((t.clone(), here));
    }
    tx.commit().await?;
    sqlite.close().await;
    pg.close().await;
    Ok(counts)
}

/// The columns of `table` on both sides, with the PostgreSQL type of each.
async fn columns(
    sqlite: &sqlx::SqlitePool,
    pg: &mut sqlx::PgConnection,
    table: &str,
) -> anyhow::Result<Vec<(String, Kind)>> {
    let theirs: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, data_type::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1",
    )
    .bind(table)
    .fetch_all(&mut *pg)
    .await?;
    let theirs: HashMap<String, String> = theirs.into_iter().collect();
    let ours: Vec<String> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
    )))
    .fetch_all(sqlite)
    .await?;
    ours.into_iter()
        .map(|c| {
            let kind = match theirs.get(&c).map(String::as_str) {
                Some("bigint" | "integer" | "smallint") => Kind::Int,
                Some("text" | "character varying") => Kind::Text,
                Some("boolean") => Kind::Bool,
                Some("bytea") => Kind::Bytes,
                Some(other) => {
                    bail!("{table}.{c}: PostgreSQL type {other} is not one this tool copies")
                }
                None => {
                    bail!("{table}.{c} has no column in the PostgreSQL schema; nothing was copied")
                }
            };
            Ok((c, kind))
        })
        .collect()
}

async fn copy_table(
    sqlite: &sqlx::SqlitePool,
    pg: &mut sqlx::PgConnection,
    table: &str,
) -> anyhow::Result<i64> {
    let cols = columns(sqlite, pg, table).await?;
    let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
    let select = format!("SELECT {} FROM {table}", names.join(", "));
    let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(sqlite);
    let mut batch: Vec<SqliteRow> = Vec::new();
    let (mut bytes, mut copied) = (0usize, 0i64);
    while let Some(row) = rows.try_next().await? {
        bytes += cols
            .iter()
            .enumerate()
            .filter(|(_, (_, k))| *k == Kind::Bytes)
            .map(|(i, _)| {
                row.try_get::<Option<Vec<u8>>, _>(i)
                    .ok()
                    .flatten()
                    .map_or(0, |b| b.len())
            })
            .sum::<usize>();
        batch.push(row);
        if batch.len() >= BATCH_ROWS || bytes >= BATCH_BYTES {
            copied += insert(pg, table, &cols, &batch).await?;
            batch.clear();
            bytes = 0;
        }
    }
    if !batch.is_empty() {
        copied += insert(pg, table, &cols, &batch).await?;
    }
    Ok(copied)
}

async fn insert(
    pg: &mut sqlx::PgConnection,
    table: &str,
    cols: &[(String, Kind)],
    rows: &[SqliteRow],
) -> anyhow::Result<i64> {
    let mut args = PgArguments::default();
    let mut values = Vec::with_capacity(rows.len());
    let mut n = 0;
    for row in rows {
        let mut slots = Vec::with_capacity(cols.len());
        for (i, (c, kind)) in cols.iter().enumerate() {
            n += 1;
            slots.push(format!("${n}"));
            let added = match kind {
                Kind::Int => args.add(row.try_get::<Option<i64>, _>(i)?),
                Kind::Text => args.add(row.try_get::<Option<String>, _>(i)?),
                Kind::Bool => args.add(row.try_get::<Option<i64>, _>(i)?.map(|v| v != 0)),
                Kind::Bytes => args.add(row.try_get::<Option<Vec<u8>>, _>(i)?),
            };
            added.map_err(|e| anyhow::anyhow!("{table}.{c}: {e}"))?;
        }
        values.push(format!("({})", slots.join(", ")));
    }
    let names: Vec<&str> = cols.iter().map(|(c, _)| c.as_str()).collect();
    let sql = format!(
        "INSERT INTO {table} ({}) VALUES {}",
        names.join(", "),
        values.join(", ")
    );
    let done = sqlx::query_with(AssertSqlSafe(sql), args)
        .execute(&mut *pg)
        .await
        .with_context(|| format!("copying {table}"))?;
    Ok(i64::try_from(done.rows_affected()).unwrap_or(i64::MAX))
}
