//! Showing credential text to people: escaped, never interpreted (attack case AC-30).
//!
//! Names, titles and descriptions in a credential are the issuer's (or an attacker's)
//! words. Every page that shows them escapes them with [`escape_html`].

/// Escapes `text` for HTML element content and quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            super::escape_html(r#"<script>alert("x")</script> & 'Ольга'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ольга&#39;"
        );
    }
}
