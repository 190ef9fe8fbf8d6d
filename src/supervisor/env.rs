//! Pure environment rules of a spawn: the `EnvironmentFile=` parser, `$VAR`/`${VAR}` expansion
//! of argv, and the ordered environment block the supervisor assembles (later sources win,
//! `UnsetEnvironment=` last). No file system, no process state: text and lists in, lists out.

/// Whitespace as systemd's `WHITESPACE`.
const WHITESPACE: &[u8] = b" \t\n\r";
/// Line ends as systemd's `NEWLINE`.
const NEWLINE: &[u8] = b"\n\r";

/// Whether `name` is a valid environment variable name (`[A-Za-z_][A-Za-z0-9_]*`).
pub fn env_name_is_valid(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(c) if c.is_ascii_alphabetic() || c == b'_' => {}
        _ => return false,
    }
    bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// An ordered environment: one entry per name, insertion order kept, later `set` replaces the
/// value in place.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvBlock {
    entries: Vec<(String, String)>,
}

impl EnvBlock {
    /// An empty block.
    pub fn new() -> EnvBlock {
        EnvBlock::default()
    }

    /// Build from assignments in order (later duplicates win).
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = &'a (String, String)>) -> EnvBlock {
        let mut b = EnvBlock::new();
        for (k, v) in pairs {
            b.set(k, v);
        }
        b
    }

    /// Set `name` to `value`, replacing any earlier value.
    pub fn set(&mut self, name: &str, value: &str) {
        if let Some(e) = self.entries.iter_mut().find(|(k, _)| k == name) {
            e.1 = value.to_string();
        } else {
            self.entries.push((name.to_string(), value.to_string()));
        }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Remove `name`.
    pub fn remove(&mut self, name: &str) {
        self.entries.retain(|(k, _)| k != name);
    }

    /// Apply one `UnsetEnvironment=` entry: `NAME` removes any value, `NAME=VALUE` only that
    /// exact assignment.
    pub fn unset_entry(&mut self, entry: &str) {
        match entry.split_once('=') {
            Some((name, value)) => self.entries.retain(|(k, v)| !(k == name && v == value)),
            None => self.remove(entry),
        }
    }

    /// The entries in order.
    pub fn entries(&self) -> &[(String, String)] {
        &self.entries
    }

    /// Consume into the entries.
    pub fn into_entries(self) -> Vec<(String, String)> {
        self.entries
    }
}

/// Parse the contents of an `EnvironmentFile=` (systemd's `load_env_file` rules, §7.2):
/// comments (`#`/`;` at line start, `\` continues them), `KEY = value` trimming, unquoted values
/// with `\X` → `X` and `\`-newline continuation, `'…'` verbatim, `"…"` unescaping only
/// `\" \\ \` \$` (and `\`-newline), no `$` expansion. Lines without `=`, and names that are not
/// valid, are dropped. A later assignment of the same name replaces the earlier one.
///
/// Errors (the whole file is rejected, as systemd does) when a key or value is not UTF-8.
pub fn parse_environment_file(text: &[u8]) -> Result<Vec<(String, String)>, String> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum St {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        SingleQuote,
        DoubleQuote,
        DoubleQuoteEscape,
        Comment,
        CommentEscape,
    }
    let mut out = EnvBlock::new();
    let mut push = |key: &[u8], value: &[u8]| -> Result<(), String> {
        let key = std::str::from_utf8(key).map_err(|_| "invalid UTF-8 in key".to_string())?;
        let value =
            std::str::from_utf8(value).map_err(|_| format!("invalid UTF-8 in value of {key}"))?;
        if env_name_is_valid(key) {
            out.set(key, value);
        }
        Ok(())
    };
    let mut state = St::PreKey;
    let mut key: Vec<u8> = Vec::new();
    let mut value: Vec<u8> = Vec::new();
    // Length to cut the key/value back to (trailing unescaped whitespace), when set.
    let mut key_ws: Option<usize> = None;
    let mut value_ws: Option<usize> = None;
    let finish_key = |key: &mut Vec<u8>, key_ws: Option<usize>| {
        if let Some(n) = key_ws {
            key.truncate(n);
        }
    };
    for &c in text {
        match state {
            St::PreKey => {
                if c == b'#' || c == b';' {
                    state = St::Comment;
                } else if !WHITESPACE.contains(&c) {
                    state = St::Key;
                    key.clear();
                    value.clear();
                    key_ws = None;
                    key.push(c);
                }
            }
            St::Key => {
                if NEWLINE.contains(&c) {
                    state = St::PreKey;
                } else if c == b'=' {
                    state = St::PreValue;
                    value_ws = None;
                } else {
                    if !WHITESPACE.contains(&c) {
                        key_ws = None;
                    } else if key_ws.is_none() {
                        key_ws = Some(key.len());
                    }
                    key.push(c);
                }
            }
            St::PreValue => {
                if NEWLINE.contains(&c) {
                    state = St::PreKey;
                    finish_key(&mut key, key_ws);
                    push(&key, &value)?;
                } else if c == b'\'' {
                    state = St::SingleQuote;
                } else if c == b'"' {
                    state = St::DoubleQuote;
                } else if c == b'\\' {
                    state = St::ValueEscape;
                } else if !WHITESPACE.contains(&c) {
                    state = St::Value;
                    value.push(c);
                }
            }
            St::Value => {
                if NEWLINE.contains(&c) {
                    state = St::PreKey;
                    if let Some(n) = value_ws {
                        value.truncate(n);
                    }
                    finish_key(&mut key, key_ws);
                    push(&key, &value)?;
                } else if c == b'\\' {
                    state = St::ValueEscape;
                    value_ws = None;
                } else {
                    if !WHITESPACE.contains(&c) {
                        value_ws = None;
                    } else if value_ws.is_none() {
                        value_ws = Some(value.len());
                    }
                    value.push(c);
                }
            }
            St::ValueEscape => {
                state = St::Value;
                if !NEWLINE.contains(&c) {
                    value.push(c);
                }
            }
            St::SingleQuote => {
                if c == b'\'' {
                    state = St::Value;
                } else {
                    value.push(c);
                }
            }
            St::DoubleQuote => {
                if c == b'"' {
                    state = St::Value;
                } else if c == b'\\' {
                    state = St::DoubleQuoteEscape;
                } else {
                    value.push(c);
                }
            }
            St::DoubleQuoteEscape => {
                state = St::DoubleQuote;
                if b"\"\\`$".contains(&c) {
                    value.push(c);
                } else if c != b'\n' {
                    value.push(b'\\');
                    value.push(c);
                }
            }
            St::Comment => {
                if c == b'\\' {
                    state = St::CommentEscape;
                } else if NEWLINE.contains(&c) {
                    state = St::PreKey;
                }
            }
            St::CommentEscape => state = St::Comment,
        }
    }
    match state {
        St::PreValue
        | St::Value
        | St::ValueEscape
        | St::SingleQuote
        | St::DoubleQuote
        | St::DoubleQuoteEscape => {
            if state == St::Value
                && let Some(n) = value_ws
            {
                value.truncate(n);
            }
            finish_key(&mut key, key_ws);
            push(&key, &value)?;
        }
        _ => {}
    }
    Ok(out.into_entries())
}

/// Split a variable's value into words for a whole-word `$VAR`: whitespace separates, `'…'` and
/// `"…"` group (quotes removed), a backslash takes the next character literally (systemd's
/// `strv_split_full(…, EXTRACT_RELAX|EXTRACT_UNQUOTE)`); unbalanced quotes end the word.
pub fn split_value_words(value: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = value.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| " \t\n\r".contains(*c)) {
            chars.next();
        }
        if chars.peek().is_none() {
            return words;
        }
        let mut word = String::new();
        let mut quote: Option<char> = None;
        while let Some(c) = chars.next() {
            match quote {
                Some(q) => {
                    if c == q {
                        quote = None;
                    } else if c == '\\' {
                        if let Some(n) = chars.next() {
                            word.push(n);
                        }
                    } else {
                        word.push(c);
                    }
                }
                None => {
                    if " \t\n\r".contains(c) {
                        break;
                    } else if c == '\'' || c == '"' {
                        quote = Some(c);
                    } else if c == '\\' {
                        if let Some(n) = chars.next() {
                            word.push(n);
                        }
                    } else {
                        word.push(c);
                    }
                }
            }
        }
        words.push(word);
    }
}

/// Expand `${NAME}` inside one word (and `$$` → `$`); brace-less `$NAME` inside a word and
/// `${NAME:…}` are kept literally; an unset `${NAME}` becomes empty (systemd's `replace_env`
/// without flags).
pub fn expand_word(word: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    #[derive(PartialEq, Eq)]
    enum St {
        Word,
        Curly,
        Variable,
    }
    let b = word.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut state = St::Word;
    // Start of the not-yet-copied text.
    let mut start = 0usize;
    for (i, &c) in b.iter().enumerate() {
        match state {
            St::Word => {
                if c == b'$' {
                    state = St::Curly;
                }
            }
            St::Curly => {
                if c == b'{' {
                    out.extend_from_slice(&b[start..i - 1]);
                    start = i - 1;
                    state = St::Variable;
                } else if c == b'$' {
                    // Copy through the first `$`, skip the second.
                    out.extend_from_slice(&b[start..i]);
                    start = i + 1;
                    state = St::Word;
                } else {
                    state = St::Word;
                }
            }
            St::Variable => {
                if c == b'}' {
                    let name = &word[start + 2..i];
                    if let Some(v) = lookup(name) {
                        out.extend_from_slice(v.as_bytes());
                    }
                    start = i + 1;
                    state = St::Word;
                } else if c == b':' {
                    // Extended syntax is not supported in Exec*=: leave it as written.
                    state = St::Word;
                }
            }
        }
    }
    out.extend_from_slice(&b[start..]);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// `$VAR` / `${VAR}` expansion of a command line against the final environment
/// (systemd's `replace_env_argv`, §5.3 table): a whole word `$NAME` is replaced by the value split
/// into words (dropped when unset); `${NAME}` anywhere in a word is replaced verbatim (empty when
/// unset); `$$` gives `$`.
pub fn expand_argv(argv: &[String], lookup: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut out = Vec::with_capacity(argv.len());
    for word in argv {
        let b = word.as_bytes();
        if b.first() == Some(&b'$') && !matches!(b.get(1), Some(b'{') | Some(b'$')) {
            if let Some(v) = lookup(&word[1..]) {
                out.extend(split_value_words(&v));
            }
            continue;
        }
        out.push(expand_word(word, lookup));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Vec<(String, String)> {
        parse_environment_file(s.as_bytes()).unwrap()
    }

    fn get(v: &[(String, String)], k: &str) -> Option<String> {
        v.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn environment_file_table() {
        // (file text, expected variable, expected value or None when dropped)
        let rows: &[(&str, &str, Option<&str>)] = &[
            ("A=1\n", "A", Some("1")),
            ("# comment\nA=1", "A", Some("1")),
            ("; comment\nB=2\n", "B", Some("2")),
            ("  # indented comment\nC=3\n", "C", Some("3")),
            ("KEY = value\n", "KEY", Some("value")),
            ("KEY=   spaced out   \n", "KEY", Some("spaced out")),
            ("NOEQ\nX=1\n", "NOEQ", None),
            ("1BAD=x\n", "1BAD", None),
            ("export E=1\n", "E", None),
            ("U=a\\x41\n", "U", Some("ax41")),
            ("U=a\\ \n", "U", Some("a ")),
            ("U=a\\\\b\n", "U", Some("a\\b")),
            ("U=one\\\ntwo\n", "U", Some("onetwo")),
            ("U=v # not a comment\n", "U", Some("v # not a comment")),
            ("S='a \\n $X \"q\"'\n", "S", Some("a \\n $X \"q\"")),
            ("S='line1\nline2'\n", "S", Some("line1\nline2")),
            ("D=\"a\\\"b\\\\c\\`d\\$e\"\n", "D", Some("a\"b\\c`d$e")),
            ("D=\"keep\\n\"\n", "D", Some("keep\\n")),
            ("D=\"l1\nl2\"\n", "D", Some("l1\nl2")),
            ("D=\"cont\\\ninued\"\n", "D", Some("continued")),
            ("D=\"  padded  \"\n", "D", Some("  padded  ")),
            ("Q='a'b\n", "Q", Some("ab")),
            ("Q=x 'y'\n", "Q", Some("x 'y'")),
            ("V=$HOME\n", "V", Some("$HOME")),
            ("EMPTY=\n", "EMPTY", Some("")),
            ("EMPTY=", "EMPTY", Some("")),
            ("LAST=noeol", "LAST", Some("noeol")),
            ("LAST=trail   ", "LAST", Some("trail")),
            ("OPEN='unterminated", "OPEN", Some("unterminated")),
            ("R=1\r\nS=2\r\n", "R", Some("1")),
            ("R=1\r\nS=2\r\n", "S", Some("2")),
            ("A=1\nA=2\n", "A", Some("2")),
            ("#c \\\nHIDDEN=1\n", "HIDDEN", None),
            ("\n\n  W=1\n", "W", Some("1")),
        ];
        for (text, name, want) in rows {
            let got = parse(text);
            assert_eq!(
                get(&got, name).as_deref(),
                *want,
                "file {text:?}, variable {name}: parsed {got:?}"
            );
        }
    }

    #[test]
    fn environment_file_rejects_invalid_utf8() {
        assert!(parse_environment_file(b"A=\xff\n").is_err());
        assert!(parse_environment_file(b"# \xff\nA=1\n").is_ok());
    }

    #[test]
    fn environment_file_keeps_order() {
        let got = parse("B=1\nA=2\nB=3\n");
        assert_eq!(
            got,
            vec![("B".into(), "3".into()), ("A".into(), "2".into())]
        );
    }

    fn sample(name: &str) -> Option<String> {
        match name {
            "ONE" => Some("one".into()),
            "TWO" => Some("two two".into()),
            "Q" => Some("'a b' c\\ d \"e f\"".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn dollar_expansion_table() {
        // Seed 12 (§5.3), verified rows plus edge cases of replace_env.
        let rows: &[(&str, &[&str])] = &[
            ("$ONE", &["one"]),
            ("$TWO", &["two", "two"]),
            ("${TWO}", &["two two"]),
            ("x${ONE}y", &["xoney"]),
            ("$$ONE", &["$ONE"]),
            ("$ONE/bar", &[]),
            ("$UNSET", &[]),
            ("${UNSET}", &[""]),
            ("--x=$ONE", &["--x=$ONE"]),
            ("${ONE:-d}", &["${ONE:-d}"]),
            ("$Q", &["a b", "c d", "e f"]),
            ("$EMPTY", &[]),
            ("${EMPTY}", &[""]),
            ("a$$b", &["a$b"]),
            ("${ONE}${TWO}", &["onetwo two"]),
            ("${ONE", &["${ONE"]),
            ("trailing$", &["trailing$"]),
            ("$", &[]),
            ("plain", &["plain"]),
            ("${}", &[""]),
        ];
        for (word, want) in rows {
            let got = expand_argv(&[word.to_string()], &sample);
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(got, want, "word {word:?}");
        }
    }

    #[test]
    fn expansion_keeps_other_words() {
        let argv: Vec<String> = ["/bin/echo", "$TWO", "${ONE}", "$UNSET", "end"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            expand_argv(&argv, &sample),
            vec!["/bin/echo", "two", "two", "one", "end"]
        );
    }

    #[test]
    fn env_block_rules() {
        let mut b = EnvBlock::from_pairs(&[
            ("A".to_string(), "1".to_string()),
            ("B".to_string(), "2".to_string()),
            ("A".to_string(), "3".to_string()),
        ]);
        assert_eq!(
            b.entries(),
            &[
                ("A".to_string(), "3".to_string()),
                ("B".to_string(), "2".to_string())
            ]
        );
        b.unset_entry("B=9");
        assert_eq!(b.get("B"), Some("2"));
        b.unset_entry("B=2");
        assert_eq!(b.get("B"), None);
        b.unset_entry("A");
        assert!(b.entries().is_empty());
    }

    #[test]
    fn names() {
        assert!(env_name_is_valid("_A1"));
        assert!(!env_name_is_valid("1A"));
        assert!(!env_name_is_valid(""));
        assert!(!env_name_is_valid("A-B"));
    }
}
