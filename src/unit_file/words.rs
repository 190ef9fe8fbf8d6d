//! Word splitting with systemd's quoting and C-style escapes (the rules of `extract_first_word`).
//!
//! Owns: separating a value into words at whitespace, removing `"…"`/`'…'` quotes that may
//! appear anywhere in a word (`a"b c"d` → `ab cd`), and decoding backslash escapes inside and
//! outside quotes (`\n`, `\xHH`, `\NNN`, `\uHHHH`, `\UHHHHHHHH`, `\s`, …). Each setting picks the
//! flags systemd uses for it; the setter decides what an error means.

/// Characters separating words (systemd's `WHITESPACE`).
pub const WHITESPACE: &[u8] = b" \t\n\r";

/// How to treat quotes and backslashes while extracting a word.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordFlags {
    /// Remove `"` and `'` quotes (`EXTRACT_UNQUOTE`).
    pub unquote: bool,
    /// Decode C escapes (`EXTRACT_CUNESCAPE`); without it a backslash just makes the next byte
    /// literal.
    pub cunescape: bool,
    /// Keep unknown escapes verbatim instead of failing (`EXTRACT_UNESCAPE_RELAX`).
    pub relax: bool,
    /// Backslashes are ordinary characters (`EXTRACT_RETAIN_ESCAPE`).
    pub retain_escape: bool,
}

impl WordFlags {
    /// `EXTRACT_UNQUOTE|EXTRACT_CUNESCAPE`: Exec*=, Environment=, PassEnvironment=.
    pub const UNQUOTE_CUNESCAPE: WordFlags = WordFlags {
        unquote: true,
        cunescape: true,
        relax: false,
        retain_escape: false,
    };
    /// `EXTRACT_UNQUOTE`: Documentation=.
    pub const UNQUOTE: WordFlags = WordFlags {
        unquote: true,
        cunescape: false,
        relax: false,
        retain_escape: false,
    };
    /// `EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE`: `[Install]` lists.
    pub const UNQUOTE_RETAIN: WordFlags = WordFlags {
        unquote: true,
        cunescape: false,
        relax: false,
        retain_escape: true,
    };
    /// `EXTRACT_RETAIN_ESCAPE`: dependency lists (plain whitespace splitting).
    pub const RETAIN: WordFlags = WordFlags {
        unquote: false,
        cunescape: false,
        relax: false,
        retain_escape: true,
    };
    /// No flags: a backslash escapes the next byte, quotes are ordinary.
    pub const PLAIN: WordFlags = WordFlags {
        unquote: false,
        cunescape: false,
        relax: false,
        retain_escape: false,
    };
}

/// Why a word could not be extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WordError {
    /// A quote was opened but never closed.
    #[error("unbalanced quotes")]
    UnbalancedQuote,
    /// An unknown or malformed escape sequence (e.g. `\q`, `\x4`, `\x00`).
    #[error("invalid escape sequence")]
    BadEscape,
    /// The value ends in a backslash.
    #[error("trailing backslash")]
    TrailingBackslash,
}

/// One extracted word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// The word after unquoting/unescaping (raw bytes from `\xHH` that do not form UTF-8 are
    /// replaced by U+FFFD; `lossy` says so).
    pub text: String,
    /// An unknown escape was kept verbatim (only with [`WordFlags::relax`]).
    pub relaxed: bool,
    /// Escapes produced bytes that are not valid UTF-8.
    pub lossy: bool,
}

fn is_ws(b: u8) -> bool {
    WHITESPACE.contains(&b)
}

/// Skip separators starting at `pos`; returns the new position.
pub fn skip_ws(input: &str, mut pos: usize) -> usize {
    let b = input.as_bytes();
    while pos < b.len() && is_ws(b[pos]) {
        pos += 1;
    }
    pos
}

/// A decoded escape: a raw byte (`\xHH`, octal) or a character.
enum Unescaped {
    Byte(u8),
    Char(char),
}

fn hex(b: u8) -> Option<u32> {
    (b as char).to_digit(16)
}

fn oct(b: u8) -> Option<u32> {
    (b as char).to_digit(8)
}

/// Decode one escape sequence; `s` starts right after the backslash. Returns the value and the
/// number of bytes consumed.
fn cunescape_one(s: &[u8]) -> Option<(Unescaped, usize)> {
    let c = *s.first()?;
    let simple = |ch: char| Some((Unescaped::Char(ch), 1));
    match c {
        b'a' => simple('\x07'),
        b'b' => simple('\x08'),
        b'f' => simple('\x0c'),
        b'n' => simple('\n'),
        b'r' => simple('\r'),
        b't' => simple('\t'),
        b'v' => simple('\x0b'),
        b'\\' => simple('\\'),
        b'"' => simple('"'),
        b'\'' => simple('\''),
        b's' => simple(' '),
        b'x' => {
            let a = hex(*s.get(1)?)?;
            let b = hex(*s.get(2)?)?;
            let v = (a << 4) | b;
            if v == 0 {
                return None;
            }
            Some((Unescaped::Byte(v as u8), 3))
        }
        b'u' | b'U' => {
            let n = if c == b'u' { 4 } else { 8 };
            let mut v: u32 = 0;
            for i in 1..=n {
                v = (v << 4) | hex(*s.get(i)?)?;
            }
            if v == 0 {
                return None;
            }
            char::from_u32(v).map(|ch| (Unescaped::Char(ch), n + 1))
        }
        b'0'..=b'7' => {
            let a = oct(*s.first()?)?;
            let b = oct(*s.get(1)?)?;
            let d = oct(*s.get(2)?)?;
            let v = (a << 6) | (b << 3) | d;
            if v == 0 || v > 255 {
                return None;
            }
            Some((Unescaped::Byte(v as u8), 3))
        }
        _ => None,
    }
}

fn push_char(out: &mut Vec<u8>, ch: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
}

/// Extract the next word of `input` starting at byte `*pos`, advancing `*pos` past the word
/// and the separators after it. `Ok(None)` when only separators remain.
pub fn extract_word(
    input: &str,
    pos: &mut usize,
    flags: WordFlags,
) -> Result<Option<Word>, WordError> {
    let b = input.as_bytes();
    let mut i = skip_ws(input, *pos);
    if i >= b.len() {
        *pos = i;
        return Ok(None);
    }
    let mut out: Vec<u8> = Vec::new();
    let mut quote: Option<u8> = None;
    let mut relaxed = false;
    let mut backslash = false;
    loop {
        if backslash {
            backslash = false;
            let Some(&c) = b.get(i) else {
                if flags.relax && quote.is_none() {
                    out.push(b'\\');
                    break;
                }
                *pos = i;
                return Err(WordError::TrailingBackslash);
            };
            if flags.cunescape {
                match cunescape_one(&b[i..]) {
                    Some((v, n)) => {
                        match v {
                            Unescaped::Byte(x) => out.push(x),
                            Unescaped::Char(ch) => push_char(&mut out, ch),
                        }
                        i += n;
                    }
                    None if flags.relax => {
                        out.push(b'\\');
                        out.push(c);
                        relaxed = true;
                        i += 1;
                    }
                    None => {
                        *pos = i;
                        return Err(WordError::BadEscape);
                    }
                }
            } else {
                out.push(c);
                i += 1;
            }
            continue;
        }
        if let Some(q) = quote {
            let Some(&c) = b.get(i) else {
                *pos = i;
                return Err(WordError::UnbalancedQuote);
            };
            i += 1;
            if c == q {
                quote = None;
            } else if c == b'\\' && !flags.retain_escape {
                backslash = true;
            } else {
                out.push(c);
            }
            continue;
        }
        let Some(&c) = b.get(i) else {
            break;
        };
        if (c == b'"' || c == b'\'') && flags.unquote {
            quote = Some(c);
            i += 1;
        } else if c == b'\\' && !flags.retain_escape {
            backslash = true;
            i += 1;
        } else if is_ws(c) {
            i = skip_ws(input, i);
            break;
        } else {
            out.push(c);
            i += 1;
        }
    }
    *pos = i;
    let (text, lossy) = match String::from_utf8(out) {
        Ok(s) => (s, false),
        Err(e) => (String::from_utf8_lossy(e.as_bytes()).into_owned(), true),
    };
    Ok(Some(Word {
        text,
        relaxed,
        lossy,
    }))
}

/// Split all of `input` into words; the first error aborts.
pub fn split_words(input: &str, flags: WordFlags) -> Result<Vec<String>, WordError> {
    let mut pos = 0;
    let mut out = Vec::new();
    while let Some(w) = extract_word(input, &mut pos, flags)? {
        out.push(w.text);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Result<Vec<String>, WordError> {
        split_words(s, WordFlags::UNQUOTE_CUNESCAPE)
    }

    #[test]
    fn quoting_table() {
        // (input, expected words) — §5.2 of the service contract.
        let table: &[(&str, &[&str])] = &[
            (r#"a"b c"d"#, &["ab cd"]),
            (r"'single \'q\''", &["single 'q'"]),
            (r#""a\x41b""#, &["aAb"]),
            (r#"one   two	three"#, &["one", "two", "three"]),
            (r#""" ''"#, &["", ""]),
            (r#"x""y"#, &["xy"]),
            (r#""\"quoted\"""#, &["\"quoted\""]),
            (r"a\sb", &["a b"]),
            (r"\101\x42\u0043\U00000044", &["ABCD"]),
            (r"tab\there", &["tab\there"]),
            (r#""$VAR" '${X}'"#, &["$VAR", "${X}"]),
            (r"\u00e9", &["é"]),
            (r"a\\b", &["a\\b"]),
            ("  lead trail  ", &["lead", "trail"]),
        ];
        for (input, want) in table {
            assert_eq!(words(input).unwrap(), *want, "input {input:?}");
        }
    }

    #[test]
    fn errors() {
        assert_eq!(words(r#""open"#), Err(WordError::UnbalancedQuote));
        assert_eq!(words("'open"), Err(WordError::UnbalancedQuote));
        assert_eq!(words(r"a\qb"), Err(WordError::BadEscape));
        assert_eq!(words(r"\x4"), Err(WordError::BadEscape));
        assert_eq!(words(r"\x00"), Err(WordError::BadEscape));
        assert_eq!(words(r"\000"), Err(WordError::BadEscape));
        assert_eq!(words(r"\777"), Err(WordError::BadEscape));
        assert_eq!(words(r"\ud800"), Err(WordError::BadEscape));
        assert_eq!(words("end\\"), Err(WordError::TrailingBackslash));
        // `\ ` is not a C escape (systemd refuses it in Environment=).
        assert_eq!(words(r"a\ b"), Err(WordError::BadEscape));
    }

    #[test]
    fn relaxed_escapes_are_kept() {
        let flags = WordFlags {
            relax: true,
            ..WordFlags::UNQUOTE_CUNESCAPE
        };
        let mut pos = 0;
        let w = extract_word(r"a\qb c", &mut pos, flags).unwrap().unwrap();
        assert_eq!(w.text, r"a\qb");
        assert!(w.relaxed);
        let w = extract_word(r"a\qb c", &mut pos, flags).unwrap().unwrap();
        assert_eq!(w.text, "c");
        assert!(!w.relaxed);
    }

    #[test]
    fn other_flag_sets() {
        // Without CUNESCAPE a backslash makes the next byte literal.
        assert_eq!(
            split_words(r#"a\nb "q""#, WordFlags::UNQUOTE).unwrap(),
            ["anb", "q"]
        );
        // RETAIN: quotes and backslashes are ordinary.
        assert_eq!(
            split_words(r#"a\x2db.service "x""#, WordFlags::RETAIN).unwrap(),
            [r"a\x2db.service", "\"x\""]
        );
        assert_eq!(
            split_words(r#"'a b' c\d"#, WordFlags::UNQUOTE_RETAIN).unwrap(),
            ["a b", r"c\d"]
        );
        assert_eq!(split_words(r"a\ b", WordFlags::PLAIN).unwrap(), ["a b"]);
    }

    #[test]
    fn raw_bytes_are_flagged() {
        let mut pos = 0;
        let w = extract_word(r"\xff", &mut pos, WordFlags::UNQUOTE_CUNESCAPE)
            .unwrap()
            .unwrap();
        assert!(w.lossy);
    }
}
