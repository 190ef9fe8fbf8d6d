//! The token layer of Upstart's job-file syntax (libnih's config tokenizer, as `init(5)`
//! describes it): whitespace (space, tab, CR) separates tokens; `'…'`/`"…"` quote (and may span
//! lines); `\` escapes the next character and `\`-newline continues a line; `#` at the start of a
//! token comments to the end of the line; `script` blocks run to an `end script` line.

/// One token: its text with quotes and escapes removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Dequoted text.
    pub text: String,
    /// Whether any part was quoted (a quoted `and` is an operand, not an operator).
    pub quoted: bool,
    /// 1-based line the token starts on.
    pub line: u32,
}

/// A cursor over one file's text.
pub struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: u32,
}

impl Lexer {
    /// A lexer at the start of `text` (invalid UTF-8 is replaced).
    pub fn new(text: &[u8]) -> Lexer {
        Lexer {
            chars: String::from_utf8_lossy(text).chars().collect(),
            pos: 0,
            line: 1,
        }
    }

    /// The current 1-based line.
    pub fn line(&self) -> u32 {
        self.line
    }

    /// True at the end of the text.
    pub fn at_end(&self) -> bool {
        self.pos >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += 1;
        if c == '\n' {
            self.line += 1;
        }
        Some(c)
    }

    /// Skip spaces, tabs, CRs and `\`-newline continuations.
    pub fn skip_blank(&mut self) {
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' => {
                    self.pos += 1;
                }
                '\\' if self.chars.get(self.pos + 1) == Some(&'\n') => {
                    self.pos += 1;
                    self.bump();
                }
                _ => break,
            }
        }
    }

    /// Skip a `#` comment up to (not including) the newline.
    fn skip_comment(&mut self) {
        if self.peek() == Some('#') {
            while let Some(c) = self.peek() {
                if c == '\n' {
                    break;
                }
                self.pos += 1;
            }
        }
    }

    /// Skip blank lines and comment lines between stanzas.
    pub fn skip_empty_lines(&mut self) {
        loop {
            self.skip_blank();
            self.skip_comment();
            if self.peek() == Some('\n') {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// True if the rest of the stanza is empty (only blanks or a comment before the newline).
    pub fn at_stanza_end(&mut self) -> bool {
        self.skip_blank();
        matches!(self.peek(), None | Some('\n') | Some('#'))
    }

    /// Consume a newline (if at one) after skipping blanks and a comment.
    pub fn consume_newline(&mut self) -> bool {
        self.skip_blank();
        self.skip_comment();
        if self.peek() == Some('\n') {
            self.bump();
            true
        } else {
            false
        }
    }

    /// The next token of the current stanza, `None` at its end. With `parens`, unquoted `(` and
    /// `)` are tokens of their own. Errors: an unterminated quote.
    pub fn next_token(&mut self, parens: bool) -> Result<Option<Token>, String> {
        if self.at_stanza_end() {
            return Ok(None);
        }
        let line = self.line;
        let mut text = String::new();
        let mut quoted = false;
        if parens && matches!(self.peek(), Some('(') | Some(')')) {
            text.push(self.bump().unwrap_or_default());
            return Ok(Some(Token { text, quoted, line }));
        }
        while let Some(c) = self.peek() {
            match c {
                ' ' | '\t' | '\r' | '\n' => break,
                '(' | ')' if parens => break,
                '\\' => {
                    self.pos += 1;
                    match self.bump() {
                        Some('\n') => break,
                        Some(n) => text.push(n),
                        None => text.push('\\'),
                    }
                }
                '"' | '\'' => {
                    quoted = true;
                    self.pos += 1;
                    loop {
                        match self.bump() {
                            None => return Err("Unterminated quoted string".into()),
                            Some(q) if q == c => break,
                            Some('\\') if c == '"' => match self.bump() {
                                Some('\n') => {}
                                Some(n) => text.push(n),
                                None => return Err("Unterminated quoted string".into()),
                            },
                            Some(n) => text.push(n),
                        }
                    }
                }
                _ => {
                    self.pos += 1;
                    text.push(c);
                }
            }
        }
        Ok(Some(Token { text, quoted, line }))
    }

    /// The raw rest of the stanza (quotes kept, for commands passed to a shell), trimmed;
    /// `\`-newline joins lines, a `#` starting a word begins a comment.
    pub fn rest_of_line(&mut self) -> Result<String, String> {
        self.skip_blank();
        let mut out = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match (c, quote) {
                ('\n', None) => break,
                ('#', None) if out.is_empty() || out.ends_with([' ', '\t']) => {
                    self.skip_comment();
                    break;
                }
                ('\\', q) if q != Some('\'') => {
                    self.pos += 1;
                    match self.bump() {
                        Some('\n') => out.push(' '),
                        Some(n) => {
                            out.push('\\');
                            out.push(n);
                        }
                        None => out.push('\\'),
                    }
                }
                ('"' | '\'', None) => {
                    quote = Some(c);
                    self.pos += 1;
                    out.push(c);
                }
                (_, Some(q)) if c == q => {
                    quote = None;
                    self.pos += 1;
                    out.push(c);
                }
                ('\r', None) => {
                    self.pos += 1;
                    out.push(' ');
                }
                _ => {
                    self.bump();
                    out.push(c);
                }
            }
        }
        if quote.is_some() {
            return Err("Unterminated quoted string".into());
        }
        Ok(out.trim().to_owned())
    }

    /// Skip the rest of a stanza after an error (to the next newline outside quotes); nothing
    /// if the stanza's newline was already consumed.
    pub fn skip_stanza(&mut self) {
        if self.pos == 0 || self.chars.get(self.pos - 1) == Some(&'\n') {
            return;
        }
        let _ = self.rest_of_line();
        while !self.at_end() && self.peek() != Some('\n') {
            self.pos += 1;
        }
        self.bump();
    }

    /// Read a `script` block body: the lines after the current one up to a line
    /// `end script` (blanks and a trailing comment allowed), with their common leading
    /// whitespace removed. `Err` (the block's first line) if the file ends first.
    pub fn script_block(&mut self) -> Result<String, u32> {
        let start = self.line;
        let mut lines: Vec<String> = Vec::new();
        loop {
            if self.at_end() {
                return Err(start);
            }
            let mut l = String::new();
            while let Some(c) = self.bump() {
                if c == '\n' {
                    break;
                }
                l.push(c);
            }
            if is_end_script(&l) {
                break;
            }
            lines.push(l.trim_end_matches('\r').to_owned());
        }
        let indent = lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
            .min()
            .unwrap_or(0);
        let mut body = String::new();
        for l in &lines {
            body.push_str(l.get(indent..).unwrap_or("").trim_end_matches([' ', '\t']));
            body.push('\n');
        }
        Ok(body)
    }
}

/// `WS? end WS script WS? (#…)?`
fn is_end_script(line: &str) -> bool {
    let l = line.split('#').next().unwrap_or("");
    let mut w = l.split_whitespace();
    w.next() == Some("end") && w.next() == Some("script") && w.next().is_none()
}
