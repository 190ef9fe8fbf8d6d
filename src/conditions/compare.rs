//! Pure helpers for condition parameters: systemd's version ordering, the comparison operators
//! of `KernelVersion=`/`OSRelease=`/`Memory=`/`CPUs=`, size suffixes, shell-style pattern
//! matching (`fnmatch(3)` without flags), brace expansion and word splitting. No I/O.

use crate::spec::glob;
use std::cmp::Ordering;

/// A comparison operator written in front of a value (`>=5.10`, `<2G`, `VERSION_ID!=12`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
}

impl CompareOp {
    /// Splits a leading operator off `s`. Longer operators are tried first so that `<=` is not
    /// read as `<` followed by `=5`. Returns `None` when `s` does not start with an operator.
    pub fn split_prefix(s: &str) -> Option<(CompareOp, &str)> {
        const OPS: [(&str, CompareOp); 6] = [
            ("<=", CompareOp::Le),
            (">=", CompareOp::Ge),
            ("<", CompareOp::Lt),
            (">", CompareOp::Gt),
            ("=", CompareOp::Eq),
            ("!=", CompareOp::Ne),
        ];
        OPS.iter()
            .find_map(|(text, op)| s.strip_prefix(text).map(|rest| (*op, rest)))
    }

    /// Whether `actual <op> expected` holds, given `actual.cmp(expected)`.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            CompareOp::Lt => ordering.is_lt(),
            CompareOp::Le => ordering.is_le(),
            CompareOp::Eq => ordering.is_eq(),
            CompareOp::Ne => ordering.is_ne(),
            CompareOp::Ge => ordering.is_ge(),
            CompareOp::Gt => ordering.is_gt(),
        }
    }
}

/// Orders two version strings the way systemd 252 does (`systemd-analyze compare-versions`).
///
/// The strings are cut into segments; a segment is a run of digits or a run of ASCII letters,
/// optionally introduced by one of `~` (pre-release: older than anything else, even the end of
/// the string), `-` (version/release separator), `^` (post-release patch) or `.` (point release);
/// a segment with such a prefix is older than one without it, `-` older than `^` older than `.`.
/// Other characters only separate segments. Numeric segments compare by value (leading zeros do
/// not count) and are newer than alphabetic ones; alphabetic ones compare bytewise, a longer one
/// being newer when one is a prefix of the other. When one string runs out, the longer one is
/// newer. Thus `5.10 > 5.9`, `5.10.0-rc1 > 5.10.0` (a `-` suffix adds a segment) and
/// `5.10.0~rc1 < 5.10.0`. Empty strings compare bytewise.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || b.is_empty() {
        return a.cmp(b);
    }
    // Byte at `k`, or 0 past the end (0 is neither a digit, a letter nor a marker).
    let at = |s: &[u8], k: usize| s.get(k).copied().unwrap_or(0);
    let significant = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'~' | b'-' | b'^' | b'.');
    let (mut i, mut j) = (0usize, 0usize);
    loop {
        while i < a.len() && !significant(a[i]) {
            i += 1;
        }
        while j < b.len() && !significant(b[j]) {
            j += 1;
        }
        // A marker on one side only decides (that side is older); on both sides it is skipped.
        let marker = |m: u8, i: &mut usize, j: &mut usize| -> Option<Ordering> {
            let (ma, mb) = (at(a, *i) == m, at(b, *j) == m);
            match (ma, mb) {
                (true, true) => {
                    *i += 1;
                    *j += 1;
                    None
                }
                (true, false) => Some(Ordering::Less),
                (false, true) => Some(Ordering::Greater),
                (false, false) => None,
            }
        };
        if let Some(o) = marker(b'~', &mut i, &mut j) {
            return o;
        }
        // After `~`, running out decides: the string with more left is newer.
        if i >= a.len() || j >= b.len() {
            return a[i.min(a.len())..].cmp(&b[j.min(b.len())..]);
        }
        for m in [b'-', b'^', b'.'] {
            if let Some(o) = marker(m, &mut i, &mut j) {
                return o;
            }
        }
        if at(a, i).is_ascii_digit() || at(b, j).is_ascii_digit() {
            let ea = i + a[i.min(a.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            let eb = j + b[j.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            // A numeric segment is newer than none (an alphabetic one or the end).
            let o = (i != ea).cmp(&(j != eb));
            if o.is_ne() {
                return o;
            }
            while i < ea && a[i] == b'0' {
                i += 1;
            }
            while j < eb && b[j] == b'0' {
                j += 1;
            }
            let o = (ea - i)
                .cmp(&(eb - j))
                .then_with(|| a[i..ea].cmp(&b[j..eb]));
            if o.is_ne() {
                return o;
            }
            (i, j) = (ea, eb);
        } else {
            let ea = i + a[i.min(a.len())..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let eb = j + b[j.min(b.len())..]
                .iter()
                .take_while(|c| c.is_ascii_alphabetic())
                .count();
            let n = (ea - i).min(eb - j);
            let o = a[i..i + n]
                .cmp(&b[j..j + n])
                .then_with(|| (ea - i).cmp(&(eb - j)));
            if o.is_ne() {
                return o;
            }
            (i, j) = (ea, eb);
        }
    }
}

/// Parses a size such as `512M`, `1.5G`, `1G 512M` or `4096` with base-1024 suffixes
/// (`K`, `M`, `G`, `T`, `P`, `E`, `B` = 1). Several components add up; their units must
/// decrease (`1G 512M`, not `512M 1G`). `None` on syntax errors and overflow.
pub fn parse_size(s: &str) -> Option<u64> {
    const UNITS: [(&str, u64); 8] = [
        ("E", 1 << 60),
        ("P", 1 << 50),
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
        ("B", 1),
        ("", 1),
    ];
    let mut rest = s;
    let mut total: u64 = 0;
    let mut first_unit = 0;
    loop {
        rest = rest.trim_start_matches(is_space);
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let whole: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        // Fraction: digits after a dot (`10.M` is accepted as 10M).
        let mut frac_num: u64 = 0;
        let mut frac_den: u64 = 1;
        if let Some(after) = rest.strip_prefix('.') {
            let n = after.bytes().take_while(u8::is_ascii_digit).count();
            for c in after[..n].bytes().take(18) {
                frac_num = frac_num * 10 + u64::from(c - b'0');
                frac_den *= 10;
            }
            rest = &after[n..];
        }
        rest = rest.trim_start_matches(is_space);
        let (idx, (suffix, factor)) = UNITS
            .iter()
            .enumerate()
            .skip(first_unit)
            .find(|(_, (suffix, _))| rest.starts_with(suffix))?;
        rest = &rest[suffix.len()..];
        first_unit = idx + 1;
        let frac = u128::from(frac_num) * u128::from(*factor) / u128::from(frac_den);
        let part = u128::from(whole) * u128::from(*factor) + frac;
        total = u64::try_from(u128::from(total) + part).ok()?;
        if rest.is_empty() {
            return Some(total);
        }
        if first_unit >= UNITS.len() {
            return None;
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// systemd's boolean words: `1 yes y true t on` and `0 no n false f off`, any case.
pub fn parse_boolean(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "yes" | "y" | "true" | "t" | "on" => Some(true),
        "0" | "no" | "n" | "false" | "f" | "off" => Some(false),
        _ => None,
    }
}

/// How [`split_words`] treats backslashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escapes {
    /// `\x` becomes `x` (unit-file parameters).
    Remove,
    /// Backslashes stay as written (the kernel command line).
    Keep,
}

/// Splits `s` at whitespace; single and double quotes group words and are removed. An
/// unbalanced quote runs to the end of the string.
pub fn split_words(s: &str, escapes: Escapes) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                in_word = true;
                if escapes == Escapes::Keep {
                    word.push('\\');
                }
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                in_word = true;
                quote = Some(c);
            }
            (None, c) if is_space(c) => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    words
}

/// Whether `name` matches the shell pattern (like `fnmatch(3)` with no flags, or with
/// `FNM_CASEFOLD` when `casefold`): `*` and `?` also match `/` and a leading dot.
pub fn fnmatch(pattern: &str, name: &str, casefold: bool) -> bool {
    glob::fnmatch(
        pattern,
        name,
        glob::Flags {
            casefold,
            noescape: false,
        },
    )
}

/// Whether `s` contains an unescaped `*`, `?` or `[` (a pattern rather than a literal name).
pub fn has_magic(s: &str) -> bool {
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '*' | '?' | '[' => return true,
            _ => {}
        }
    }
    false
}

/// Removes backslash escapes from a pattern without magic characters.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            out.push(chars.next().unwrap_or('\\'));
        } else {
            out.push(c);
        }
    }
    out
}

/// Expands `{a,b}` alternatives (nested ones too) the way `glob(3)` with `GLOB_BRACE` does;
/// `{}` and a `{` without its `}` stay literal.
pub fn expand_braces(pattern: &str) -> Vec<String> {
    let bytes = pattern.as_bytes();
    let mut k = 0;
    let mut open = None;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => k += 1,
            b'{' if bytes.get(k + 1) != Some(&b'}') => {
                open = Some(k);
                break;
            }
            _ => {}
        }
        k += 1;
    }
    let Some(open) = open else {
        return vec![pattern.to_owned()];
    };
    // Find the matching close brace and the top-level commas.
    let mut depth = 0;
    let mut commas = Vec::new();
    let mut close = None;
    let mut k = open + 1;
    while k < bytes.len() {
        match bytes[k] {
            b'\\' => k += 1,
            b'{' => depth += 1,
            b'}' if depth == 0 => {
                close = Some(k);
                break;
            }
            b'}' => depth -= 1,
            b',' if depth == 0 => commas.push(k),
            _ => {}
        }
        k += 1;
    }
    let Some(close) = close else {
        return vec![pattern.to_owned()];
    };
    let (head, tail) = (&pattern[..open], &pattern[close + 1..]);
    let mut bounds = vec![open];
    bounds.extend(commas);
    bounds.push(close);
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let alternative = &pattern[w[0] + 1..w[1]];
        out.extend(expand_braces(&format!("{head}{alternative}{tail}")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_order_follows_systemd() {
        // systemd's documented chain, oldest first.
        let chain = [
            "122.1",
            "123~rc1-1",
            "123",
            "123-a",
            "123-a.1",
            "123-1",
            "123-1.1",
            "123^post1",
            "123.a-1",
            "123.1-1",
            "123a-1",
            "124-1",
        ];
        for (k, a) in chain.iter().enumerate() {
            assert_eq!(compare_versions(a, a), Ordering::Equal, "{a}");
            for b in &chain[k + 1..] {
                assert_eq!(compare_versions(a, b), Ordering::Less, "{a} < {b}");
                assert_eq!(compare_versions(b, a), Ordering::Greater, "{b} > {a}");
            }
        }
    }

    #[test]
    fn version_table() {
        use Ordering::*;
        let table = [
            ("5.10", "5.9", Greater),
            ("5.10.0", "5.10", Greater),
            ("5.10.0-rc1", "5.10.0", Greater),
            ("5.10.0~rc1", "5.10.0", Less),
            ("5.10.0-rc1", "5.10.0-rc2", Less),
            ("6.1.0-13-amd64", "6.1", Greater),
            ("6.1.0-13-amd64", "6.1.0-9-amd64", Greater),
            ("007", "7", Equal),
            ("1_2", "1.2", Greater),
            ("1_2", "12", Less),
            ("a", "1", Less),
            ("abc", "abd", Less),
            ("abc", "ab", Greater),
            ("", "1", Less),
            ("", "", Equal),
            ("1", "", Greater),
            ("1.0", "1.0", Equal),
            ("2", "10", Less),
        ];
        for (a, b, want) in table {
            assert_eq!(compare_versions(a, b), want, "{a} vs {b}");
            assert_eq!(compare_versions(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn operators_split_longest_first() {
        assert_eq!(
            CompareOp::split_prefix(">=5.10"),
            Some((CompareOp::Ge, "5.10"))
        );
        assert_eq!(CompareOp::split_prefix("<= 2"), Some((CompareOp::Le, " 2")));
        assert_eq!(CompareOp::split_prefix("<2"), Some((CompareOp::Lt, "2")));
        assert_eq!(CompareOp::split_prefix(">2"), Some((CompareOp::Gt, "2")));
        assert_eq!(CompareOp::split_prefix("=2"), Some((CompareOp::Eq, "2")));
        assert_eq!(CompareOp::split_prefix("!=2"), Some((CompareOp::Ne, "2")));
        assert_eq!(CompareOp::split_prefix("5.*"), None);
        assert_eq!(CompareOp::split_prefix("!5"), None);
        assert!(CompareOp::Ge.holds(Ordering::Equal));
        assert!(!CompareOp::Gt.holds(Ordering::Equal));
        assert!(CompareOp::Ne.holds(Ordering::Less));
        assert!(!CompareOp::Lt.holds(Ordering::Greater));
    }

    #[test]
    fn sizes_use_base_1024() {
        assert_eq!(parse_size("0"), Some(0));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("1K"), Some(1024));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("2G"), Some(2 << 30));
        assert_eq!(parse_size("1T"), Some(1 << 40));
        assert_eq!(parse_size("1.5G"), Some(3 << 29));
        assert_eq!(parse_size("1G 512M"), Some((1 << 30) + (1 << 29)));
        assert_eq!(parse_size(" 3 K"), Some(3072));
        assert_eq!(parse_size("10.M"), Some(10 << 20));
        assert_eq!(parse_size("5B"), Some(5));
        assert_eq!(parse_size("512M 1G"), None);
        assert_eq!(parse_size("1X"), None);
        assert_eq!(parse_size(""), None);
        assert_eq!(parse_size("-1"), None);
        assert_eq!(parse_size("G"), None);
        assert_eq!(parse_size("16E"), None);
    }

    #[test]
    fn booleans() {
        for t in ["1", "yes", "Y", "true", "t", "ON"] {
            assert_eq!(parse_boolean(t), Some(true), "{t}");
        }
        for f in ["0", "no", "n", "FALSE", "f", "off"] {
            assert_eq!(parse_boolean(f), Some(false), "{f}");
        }
        assert_eq!(parse_boolean("maybe"), None);
        assert_eq!(parse_boolean(""), None);
    }

    #[test]
    fn words_unquote() {
        assert_eq!(
            split_words("  a \"b c\" 'd e'f  g\\ h ", Escapes::Remove),
            ["a", "b c", "d ef", "g h"]
        );
        assert_eq!(
            split_words("x=\"1 2\" y\\z \"open", Escapes::Keep),
            ["x=1 2", "y\\z", "open"]
        );
        assert!(split_words("   ", Escapes::Remove).is_empty());
        assert_eq!(split_words("''", Escapes::Remove), [""]);
    }

    #[test]
    fn patterns() {
        let yes = [
            ("*", ""),
            ("*", "a/b"),
            ("a*c", "abbbc"),
            ("a?c", "abc"),
            ("5.*", "5.10.0-13-amd64"),
            ("*-amd64", "6.1.0-13-amd64"),
            ("[abc]x", "bx"),
            ("[!abc]x", "dx"),
            ("[^abc]x", "dx"),
            ("[a-c]", "b"),
            ("[]]", "]"),
            ("[[:digit:]]*", "7up"),
            ("\\*", "*"),
            ("a\\?", "a?"),
            ("[", "["),
            ("*.host*", ".host"),
            ("*a*b*c", "xxaxxbxxc"),
        ];
        for (p, n) in yes {
            assert!(fnmatch(p, n, false), "{p} should match {n}");
        }
        let no = [
            ("a*c", "abcd"),
            ("a?c", "ac"),
            ("[abc]x", "dx"),
            ("[!abc]x", "ax"),
            ("\\*", "a"),
            ("5.*", "6.1"),
            ("abc", "ABC"),
            ("*a*b*c", "xxaxxbxx"),
        ];
        for (p, n) in no {
            assert!(!fnmatch(p, n, false), "{p} should not match {n}");
        }
        assert!(fnmatch("MyHost*", "myhost-01", true));
        assert!(fnmatch("[A-C]x", "bX", true));
        assert!(!fnmatch("MyHost*", "myhost-01", false));
    }

    #[test]
    fn magic_and_unescape() {
        assert!(has_magic("/a/*"));
        assert!(has_magic("/a/b?"));
        assert!(has_magic("/a/[bc]"));
        assert!(!has_magic("/a/b"));
        assert!(!has_magic("/a/\\*"));
        assert_eq!(unescape("/a/\\*b"), "/a/*b");
    }

    #[test]
    fn braces() {
        assert_eq!(expand_braces("/a/{b,c}/d"), ["/a/b/d", "/a/c/d"]);
        assert_eq!(expand_braces("{x,y{1,2}}z"), ["xz", "y1z", "y2z"]);
        assert_eq!(expand_braces("/a/{b}"), ["/a/b"]);
        assert_eq!(expand_braces("/a/{}"), ["/a/{}"]);
        assert_eq!(expand_braces("/a/{b,c"), ["/a/{b,c"]);
        assert_eq!(expand_braces("/a/\\{b,c}"), ["/a/\\{b,c}"]);
        assert_eq!(expand_braces("{a,b}{1,2}"), ["a1", "a2", "b1", "b2"]);
    }
}
