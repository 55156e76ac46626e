//! The request a host describes to the core: method, path, headers, optional raw query, and the
//! host's own velocity count. The core reads nothing else from the wire.

/// Most header entries [`Request`] keeps; later ones are dropped (a host limit, not a decision).
pub const MAX_HEADERS: usize = 256;

/// An HTTP request as the host sees it.
///
/// Header names compare ASCII case-insensitively; a name given several times stands for a header
/// sent several times (the order is kept). A `path` holding `?` is split: the part after it is
/// the raw query unless [`Request::query`] sets one.
///
/// ```
/// use tokenward_core::Request;
/// let req = Request::new("GET", "/tools/run?x=1")
///     .header("Authorization", "Bearer abc")
///     .header("x-trace-id", "t-1");
/// assert_eq!(req.path(), "/tools/run");
/// assert_eq!(req.raw_query(), Some("x=1"));
/// assert_eq!(req.header_values("authorization").collect::<Vec<_>>(), ["Bearer abc"]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Request {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    requests_in_window: Option<u64>,
}

impl Request {
    /// A request with no headers.
    pub fn new(method: impl Into<String>, path: impl Into<String>) -> Self {
        let path = path.into();
        let (path, query) = match path.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path, None),
        };
        Self {
            method: method.into(),
            path,
            query,
            headers: Vec::new(),
            requests_in_window: None,
        }
    }

    /// Adds one header entry (builder style).
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push_header(name, value);
        self
    }

    /// Adds one header entry.
    pub fn push_header(&mut self, name: impl Into<String>, value: impl Into<String>) {
        if self.headers.len() < MAX_HEADERS {
            self.headers.push((name.into(), value.into()));
        }
    }

    /// Sets the raw query string (without `?`), replacing one split from the path.
    #[must_use]
    pub fn query(mut self, raw: impl Into<String>) -> Self {
        self.query = Some(raw.into());
        self
    }

    /// Sets the host's count of requests from this client in the current window (scanner velocity).
    #[must_use]
    pub fn requests_in_window(mut self, count: u64) -> Self {
        self.requests_in_window = Some(count);
        self
    }

    /// The method, as given.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The path, without the query.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The raw query string, without `?`.
    pub fn raw_query(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// Every header entry, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The values of every entry named `name` (ASCII case-insensitive), in order.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of `name`, if any.
    pub fn first_header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The host's velocity count, if it passed one.
    pub fn window_count(&self) -> Option<u64> {
        self.requests_in_window
    }
}
