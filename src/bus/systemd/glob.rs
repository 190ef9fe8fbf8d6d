//! Shell-style pattern matching as systemd applies it to unit names (`fnmatch(3)` with
//! `FNM_NOESCAPE`): `*`, `?` and bracket expressions (`[abc]`, `[a-z]`, `[!x]`, `[^x]`);
//! a backslash is an ordinary character. Used by `ListUnitsByPatterns` and preset files.

/// Whether `name` matches `pattern`.
pub fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_at(&p, &n)
}

/// Whether `name` matches any of `patterns` (an empty list matches everything).
pub fn fnmatch_any(patterns: &[String], name: &str) -> bool {
    patterns.is_empty() || patterns.iter().any(|p| fnmatch(p, name))
}

fn matches_at(p: &[char], n: &[char]) -> bool {
    // Iterative matcher with backtracking to the last `*`.
    let (mut pi, mut ni) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() {
            match p[pi] {
                '*' => {
                    star = Some((pi, ni));
                    pi += 1;
                    continue;
                }
                '?' => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                '[' => {
                    if let Some((matched, next)) = bracket(p, pi, n[ni]) {
                        if matched {
                            pi = next;
                            ni += 1;
                            continue;
                        }
                    } else if n[ni] == '[' {
                        // An unterminated bracket is a literal '['.
                        pi += 1;
                        ni += 1;
                        continue;
                    }
                }
                c if c == n[ni] => {
                    pi += 1;
                    ni += 1;
                    continue;
                }
                _ => {}
            }
        }
        match star {
            Some((sp, sn)) => {
                pi = sp + 1;
                ni = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Evaluate the bracket expression starting at `p[start] == '['` against `c`. Returns whether
/// it matched and the index after the closing `]`, or `None` if the bracket is unterminated.
fn bracket(p: &[char], start: usize, c: char) -> Option<(bool, usize)> {
    let mut i = start + 1;
    let negate = matches!(p.get(i), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|e| *e != ']') {
            let end = p[i + 2];
            if ch <= c && c <= end {
                matched = true;
            }
            i += 3;
        } else {
            if ch == c {
                matched = true;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(fnmatch("*", "foo.service"));
        assert!(fnmatch("f*", "foo.service"));
        assert!(fnmatch("*.service", "foo.service"));
        assert!(!fnmatch("*.socket", "foo.service"));
        assert!(fnmatch("foo?.service", "foo1.service"));
        assert!(!fnmatch("foo?.service", "foo.service"));
        assert!(fnmatch("a@[0-9].service", "a@7.service"));
        assert!(!fnmatch("a@[!0-9].service", "a@7.service"));
        assert!(fnmatch("a@[^0-9].service", "a@x.service"));
        assert!(fnmatch("[]]x", "]x"));
        assert!(fnmatch("a[b", "a[b"));
        assert!(fnmatch("*a*b*c", "xxaxxbxxc"));
        assert!(!fnmatch("*a*b*c", "xxaxxbxx"));
        // FNM_NOESCAPE: a backslash is literal.
        assert!(fnmatch("a\\x2db.service", "a\\x2db.service"));
        assert!(fnmatch("foo.service", "foo.service"));
        assert!(!fnmatch("foo.service", "foo.servicex"));
        assert!(fnmatch("", ""));
        assert!(!fnmatch("", "a"));
    }

    #[test]
    fn any_pattern() {
        assert!(fnmatch_any(&[], "x.service"));
        assert!(fnmatch_any(&["y*".into(), "x*".into()], "x.service"));
        assert!(!fnmatch_any(&["y*".into()], "x.service"));
    }
}
