//! The Knowledge base view's own state: the search as typed, the hits of the latest
//! answer, the selection, and the article open in the reader.

use shared::kb::{Article, ArticleHit};

#[derive(Debug, Clone, Default)]
pub struct KbView {
    pub query: String,
    /// The number of the latest search sent; older answers are dropped.
    pub seq: u64,
    pub hits: Vec<ArticleHit>,
    pub selected: usize,
    /// The article in the reader (the full text, fetched on Enter).
    pub open: Option<Article>,
    pub scroll: u16,
    /// Whether a search has been answered since the view was first shown.
    pub loaded: bool,
}

impl KbView {
    pub fn selected_hit(&self) -> Option<&ArticleHit> {
        self.hits.get(self.selected)
    }
}
