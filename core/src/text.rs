//! Showing credential text to people: escaped, never interpreted (attack case AC-30).
//!
//! Names, titles and descriptions in a credential are the issuer's (or an attacker's)
//! words. Every page that shows them escapes them with [`escape_html`]; a terminal gets
//! them through [`terminal_safe`]. The character classes that make text lie about itself
//! ([`is_bidi_control`], [`is_invisible`]) are defined here once, for the issuer's
//! checks of learner text and for the neutralising here.

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

/// Whether `c` reorders the text around it: the explicit directional embeddings,
/// overrides and isolates, and the implicit marks (U+061C, U+200E, U+200F).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` shows nothing by itself: Unicode's default-ignorable code points (zero-
/// width spaces and joiners, word joiner, invisible operators, soft hyphen, variation
/// selectors, tags, the BOM), the Hangul fillers, and the bidirectional controls.
pub fn is_invisible(c: char) -> bool {
    is_bidi_control(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{206F}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF0}'..='\u{FFF8}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// `text` for a terminal line: control characters (C0, DEL, C1, so escape sequences),
/// line and paragraph separators, bidirectional controls and invisible characters are
/// written as `\u{XXXX}`, and a backslash as `\\`, so what is printed is what is there.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\\' {
            out.push_str("\\\\");
        } else if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_invisible(c) {
            out.push_str(&format!("\\u{{{:04X}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn terminal_text_shows_what_is_there() {
        assert_eq!(
            super::terminal_safe("a\u{1b}[31mred\u{202E}x\u{200B}\\ Ольга"),
            "a\\u{001B}[31mred\\u{202E}x\\u{200B}\\\\ Ольга"
        );
        assert!(super::is_invisible('\u{3164}') && super::is_invisible('\u{2060}'));
        assert!(!super::is_invisible('a') && !super::is_bidi_control('\u{200B}'));
    }

    #[test]
    fn markup_becomes_text() {
        assert_eq!(
            super::escape_html(r#"<script>alert("x")</script> & 'Ольга'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Ольга&#39;"
        );
    }
}
