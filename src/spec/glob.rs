//! Shell patterns as `fnmatch(3)` matches them, the one matcher of the crate: `*`, `?`, bracket
//! expressions (`[abc]`, `[a-z]`, `[!x]`, `[^x]`, `[[:class:]]`; a `[` without its `]` is an
//! ordinary character) and backslash escapes, with the two flags unitd's callers need:
//! `FNM_NOESCAPE` (systemd matches unit names so: a backslash is an ordinary character) and
//! `FNM_CASEFOLD` (`ConditionHost=`). `*` and `?` also match `/` and a leading dot (no
//! `FNM_PATHNAME`/`FNM_PERIOD`). Pure: no I/O.

/// `fnmatch(3)` flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Flags {
    /// `FNM_NOESCAPE`: a backslash is an ordinary character.
    pub noescape: bool,
    /// `FNM_CASEFOLD`: letters match regardless of case.
    pub casefold: bool,
}

/// Whether `text` matches `pattern` under `flags`.
pub fn fnmatch(pattern: &str, text: &str, flags: Flags) -> bool {
    let toks = compile(pattern, flags.noescape);
    let text: Vec<char> = text.chars().collect();
    let casefold = flags.casefold;
    let (mut p, mut t) = (0usize, 0usize);
    // Where the last `*` was and which text position it is currently made to end at.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::AnyString) => {
                star = Some((p, t));
                p += 1;
            }
            Some(tok) if tok_matches(tok, text[t], casefold) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|tok| matches!(tok, Tok::AnyString))
}

/// One element of a compiled shell pattern.
#[derive(Debug, Clone)]
enum Tok {
    Char(char),
    AnyChar,
    AnyString,
    Set { negated: bool, items: Vec<SetItem> },
}

#[derive(Debug, Clone)]
enum SetItem {
    Char(char),
    Range(char, char),
    Class(String),
}

/// Compiles a shell pattern (see the module docs); with `noescape` a backslash is an ordinary
/// character, inside brackets too.
fn compile(pattern: &str, noescape: bool) -> Vec<Tok> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut toks = Vec::new();
    let mut k = 0;
    while k < chars.len() {
        match chars[k] {
            '*' => toks.push(Tok::AnyString),
            '?' => toks.push(Tok::AnyChar),
            '\\' if !noescape => {
                k += 1;
                toks.push(Tok::Char(chars.get(k).copied().unwrap_or('\\')));
            }
            '[' => match compile_set(&chars, k + 1, noescape) {
                Some((tok, end)) => {
                    toks.push(tok);
                    k = end;
                }
                None => toks.push(Tok::Char('[')),
            },
            c => toks.push(Tok::Char(c)),
        }
        k += 1;
    }
    toks
}

/// Parses a bracket expression starting after its `[`; returns it and the index of its `]`.
fn compile_set(chars: &[char], start: usize, noescape: bool) -> Option<(Tok, usize)> {
    let mut k = start;
    let negated = matches!(chars.get(k), Some('!' | '^'));
    if negated {
        k += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let c = *chars.get(k)?;
        if c == ']' && !first {
            return Some((Tok::Set { negated, items }, k));
        }
        first = false;
        if c == '[' && chars.get(k + 1) == Some(&':') {
            let rest: String = chars[k + 2..].iter().collect();
            if let Some(end) = rest.find(":]") {
                let name = rest[..end].to_owned();
                k += 2 + name.chars().count() + 2;
                items.push(SetItem::Class(name));
                continue;
            }
        }
        let lo = if c == '\\' && !noescape {
            k += 1;
            *chars.get(k)?
        } else {
            c
        };
        if chars.get(k + 1) == Some(&'-') && chars.get(k + 2).is_some_and(|&e| e != ']') {
            let mut hi_at = k + 2;
            if chars[hi_at] == '\\' && !noescape {
                hi_at += 1;
            }
            let hi = *chars.get(hi_at)?;
            items.push(SetItem::Range(lo, hi));
            k = hi_at + 1;
        } else {
            items.push(SetItem::Char(lo));
            k += 1;
        }
    }
}

fn class_matches(name: &str, c: char) -> bool {
    match name {
        "alpha" => c.is_alphabetic(),
        "digit" => c.is_ascii_digit(),
        "alnum" => c.is_alphanumeric(),
        "upper" => c.is_uppercase(),
        "lower" => c.is_lowercase(),
        "space" => c.is_whitespace(),
        "blank" => c == ' ' || c == '\t',
        "punct" => c.is_ascii_punctuation(),
        "xdigit" => c.is_ascii_hexdigit(),
        "cntrl" => c.is_control(),
        "print" => !c.is_control(),
        "graph" => !c.is_control() && !c.is_whitespace(),
        _ => false,
    }
}

fn fold(c: char, casefold: bool) -> char {
    if casefold {
        c.to_lowercase().next().unwrap_or(c)
    } else {
        c
    }
}

fn tok_matches(tok: &Tok, c: char, casefold: bool) -> bool {
    match tok {
        Tok::Char(p) => fold(*p, casefold) == fold(c, casefold),
        Tok::AnyChar => true,
        Tok::AnyString => unreachable!("handled by the matcher"),
        Tok::Set { negated, items } => {
            let fc = fold(c, casefold);
            let hit = items.iter().any(|item| match item {
                SetItem::Char(x) => fold(*x, casefold) == fc,
                SetItem::Range(lo, hi) => {
                    (*lo..=*hi).contains(&c)
                        || (casefold && (fold(*lo, true)..=fold(*hi, true)).contains(&fc))
                }
                SetItem::Class(name) => class_matches(name, c),
            });
            hit != *negated
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOESCAPE: Flags = Flags {
        noescape: true,
        casefold: false,
    };

    #[test]
    fn backslash_escapes_unless_noescape() {
        assert!(fnmatch("a\\*", "a*", Flags::default()));
        assert!(!fnmatch("a\\*", "ab", Flags::default()));
        assert!(fnmatch("a\\*", "a\\bc", NOESCAPE));
        assert!(fnmatch("[\\]]", "]", Flags::default()));
        assert!(fnmatch("[\\x]", "\\", NOESCAPE));
        assert!(!fnmatch("[\\x]", "\\", Flags::default()));
    }

    #[test]
    fn classes_and_casefold() {
        assert!(fnmatch("[[:digit:]]x", "7x", NOESCAPE));
        assert!(!fnmatch("[[:digit:]]x", "ax", NOESCAPE));
        let fold = Flags {
            noescape: false,
            casefold: true,
        };
        assert!(fnmatch("Host-[A-C]*", "host-b1", fold));
        assert!(!fnmatch("Host-[A-C]*", "host-b1", Flags::default()));
    }
}
