//! `--env-file FILE`: the operator's commands read the same env file as the unit
//! (`EnvironmentFile=`), so `tenant …` finds the port and admin token without exporting secrets
//! into a shell. Variables already in the process environment win over the file.

/// `KEY=VALUE` lines; blank lines and `#` comments skipped; a value wholly wrapped in single or
/// double quotes is unwrapped, anything else is taken literally — so JSON written bare or in
/// single quotes reads the same here as in systemd's `EnvironmentFile=`.
pub fn parse(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut vars = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("line {}: expected KEY=VALUE", n + 1));
        };
        let key = key.trim();
        let key_ok = !key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            return Err(format!("line {}: invalid variable name", n + 1));
        }
        vars.push((key.to_owned(), unquote(value.trim()).to_owned()));
    }
    Ok(vars)
}

fn unquote(v: &str) -> &str {
    for q in ['\'', '"'] {
        if v.len() >= 2 && v.starts_with(q) && v.ends_with(q) {
            return &v[1..v.len() - 1];
        }
    }
    v
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lines_comments_quotes_and_json() {
        let text = "# comment\n\nMUX_PORT=18891\nexport MUX_HOST = 0.0.0.0 \n\
                    MUX_TENANTS_JSON='[{\"id\":\"a\",\"apiKey\":\"k\"}]'\nMUX_API_KEY=\"x y\"\nEMPTY=\n";
        let vars = parse(text).unwrap();
        assert_eq!(
            vars,
            [
                ("MUX_PORT".into(), "18891".into()),
                ("MUX_HOST".into(), "0.0.0.0".into()),
                (
                    "MUX_TENANTS_JSON".into(),
                    "[{\"id\":\"a\",\"apiKey\":\"k\"}]".into()
                ),
                ("MUX_API_KEY".into(), "x y".into()),
                ("EMPTY".into(), String::new()),
            ]
        );
    }

    #[test]
    fn malformed_lines_name_their_line_number() {
        assert_eq!(
            parse("A=1\nnonsense\n").unwrap_err(),
            "line 2: expected KEY=VALUE"
        );
        assert_eq!(
            parse("BAD-NAME=1").unwrap_err(),
            "line 1: invalid variable name"
        );
    }
}
