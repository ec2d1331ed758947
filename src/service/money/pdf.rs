//! Invoices, credit notes and receipts as PDF files (pdf-writer, with the standard Helvetica fonts so
//! nothing needs embedding): the office's name and address from settings, the member's name, address and
//! number, what it is for and the amounts.

use crate::domain::money::Money;
use crate::service::settings::Office;
use chrono::NaiveDate;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// What goes on the page.
pub struct Printable<'a> {
    pub office: &'a Office,
    /// "Invoice", "Credit note" or "Receipt".
    pub title: &'a str,
    pub number: &'a str,
    pub issued_on: NaiveDate,
    pub to_name: &'a str,
    pub to_address: &'a [String],
    pub membership_number: &'a str,
    pub description: &'a str,
    pub amount: Money,
    /// Invoices: what is still owed.
    pub outstanding: Option<Money>,
    /// A credit note's invoice.
    pub related: Option<&'a str>,
    /// Why an invoice with nothing outstanding is closed when it was not paid: "Credited" or
    /// "Written off". `None`: paid.
    pub closed: Option<&'a str>,
}

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");
const LEFT: f32 = 56.0;
const RIGHT: f32 = 539.0;

/// Text in the fonts' WinAnsi encoding: Latin-1 letters as themselves, the pound and euro signs and
/// typographic quotes mapped, anything else as `?`.
pub fn win_ansi(s: &str) -> Vec<u8> {
    s.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '€' => 0x80,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '–' => 0x96,
            '—' => 0x97,
            _ => b'?',
        })
        .collect()
}

/// Helvetica's advance width of `s` at `size` points (digits, money signs and punctuation measured;
/// letters at an average width), for right-aligned amounts.
fn width(s: &str, size: f32) -> f32 {
    let units: u32 = s
        .chars()
        .map(|c| match c {
            '0'..='9' | '£' | '€' | '$' => 556,
            '.' | ',' | ' ' => 278,
            '-' => 333,
            'A'..='Z' => 667,
            _ => 556,
        })
        .sum();
    units as f32 * size / 1000.0
}

fn text(c: &mut Content, font: Name, size: f32, x: f32, y: f32, s: &str) {
    let bytes = win_ansi(s);
    c.begin_text();
    c.set_font(font, size);
    c.next_line(x, y);
    c.show(Str(&bytes));
    c.end_text();
}

fn right(c: &mut Content, font: Name, size: f32, y: f32, s: &str) {
    text(c, font, size, RIGHT - width(s, size), y, s);
}

fn rule(c: &mut Content, y: f32) {
    c.set_line_width(0.5);
    c.move_to(LEFT, y);
    c.line_to(RIGHT, y);
    c.stroke();
}

/// Breaks `s` into lines of at most `max` characters at spaces.
pub fn wrap(s: &str, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut line = String::new();
    for word in s.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > max {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push(line);
    }
    out
}

/// The document as PDF bytes: one A4 page.
pub fn render(p: &Printable<'_>) -> Vec<u8> {
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let page_id = Ref::new(3);
    let regular = Ref::new(4);
    let bold = Ref::new(5);
    let content_id = Ref::new(6);
    let info = Ref::new(7);

    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids([page_id]).count(1);
    let mut page = pdf.page(page_id);
    page.media_box(Rect::new(0.0, 0.0, 595.0, 842.0));
    page.parent(tree);
    page.contents(content_id);
    {
        let mut res = page.resources();
        let mut fonts = res.fonts();
        fonts.pair(REGULAR, regular);
        fonts.pair(BOLD, bold);
    }
    page.finish();
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    let title = format!("{} {}", p.title, p.number);
    pdf.document_info(info)
        .title(TextStr(&title))
        .author(TextStr(&p.office.name))
        .creator(TextStr("Guildhall"));

    let mut c = Content::new();
    // The office.
    let mut y = 790.0;
    text(&mut c, BOLD, 16.0, LEFT, y, &p.office.name);
    for line in p.office.address.lines() {
        y -= 14.0;
        text(&mut c, REGULAR, 10.0, LEFT, y, line);
    }
    // The document.
    right(&mut c, BOLD, 20.0, 790.0, p.title);
    right(
        &mut c,
        REGULAR,
        10.0,
        770.0,
        &format!("Number {}", p.number),
    );
    right(
        &mut c,
        REGULAR,
        10.0,
        756.0,
        &format!("Date {}", p.issued_on.format("%-d %B %Y")),
    );
    if let Some(r) = p.related {
        right(&mut c, REGULAR, 10.0, 742.0, &format!("For invoice {r}"));
    }
    // The member.
    y = y.min(720.0) - 30.0;
    text(&mut c, BOLD, 10.0, LEFT, y, "To");
    y -= 14.0;
    text(&mut c, REGULAR, 11.0, LEFT, y, p.to_name);
    for line in p.to_address {
        y -= 13.0;
        text(&mut c, REGULAR, 10.0, LEFT, y, line);
    }
    y -= 16.0;
    text(
        &mut c,
        REGULAR,
        10.0,
        LEFT,
        y,
        &format!("Membership number {}", p.membership_number),
    );
    // What it is for.
    y -= 40.0;
    text(&mut c, BOLD, 10.0, LEFT, y, "Description");
    right(&mut c, BOLD, 10.0, y, "Amount");
    y -= 6.0;
    rule(&mut c, y);
    y -= 16.0;
    let lines = wrap(p.description, 70);
    right(&mut c, REGULAR, 10.0, y, &p.amount.to_string());
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            y -= 13.0;
        }
        text(&mut c, REGULAR, 10.0, LEFT, y, line);
    }
    y -= 10.0;
    rule(&mut c, y);
    y -= 18.0;
    let total = match p.title {
        "Receipt" => "Amount received",
        "Credit note" => "Amount credited",
        _ => "Total",
    };
    text(&mut c, BOLD, 11.0, 330.0, y, total);
    right(&mut c, BOLD, 11.0, y, &p.amount.to_string());
    if let Some(o) = p.outstanding {
        y -= 16.0;
        text(&mut c, REGULAR, 10.0, 330.0, y, "Amount outstanding");
        right(&mut c, REGULAR, 10.0, y, &o.to_string());
        y -= 28.0;
        let note = if o.is_zero() {
            match p.closed {
                Some(why) => format!("{why}. There is nothing to pay."),
                None => "Paid in full. Thank you.".to_owned(),
            }
        } else {
            format!(
                "Please pay {o} from your account online, or quote {} with your payment.",
                p.number
            )
        };
        text(&mut c, REGULAR, 10.0, LEFT, y, &note);
    }
    text(
        &mut c,
        REGULAR,
        8.0,
        LEFT,
        40.0,
        &format!("{} - {} {}", p.office.name, p.title, p.number),
    );
    pdf.stream(content_id, &c.finish());
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_is_a_pdf_with_the_office_member_and_amounts_in_it() {
        let office = Office {
            name: "Test Guild".into(),
            address: "1 High Street\nLeeds".into(),
            ..Office::default()
        };
        let addr = vec!["2 Low Road".to_owned(), "York".to_owned()];
        let bytes = render(&Printable {
            office: &office,
            title: "Invoice",
            number: "INV-000042",
            issued_on: NaiveDate::from_ymd_opt(2026, 11, 22).expect("date"),
            to_name: "Ada Lovelace",
            to_address: &addr,
            membership_number: "GH0000007",
            description: "Annual subscription 2026-27",
            amount: Money::from_pence(21_600),
            outstanding: Some(Money::from_pence(21_600)),
            related: None,
            closed: None,
        });
        assert!(bytes.starts_with(b"%PDF-"));
        let s = String::from_utf8_lossy(&bytes);
        for needle in [
            "Test Guild",
            "1 High Street",
            "INV-000042",
            "Ada Lovelace",
            "GH0000007",
            "Annual subscription 2026-27",
        ] {
            assert!(s.contains(needle), "{needle} missing");
        }
        // Text with the pound sign (0xA3 in WinAnsi) is written as a hex string.
        let hex: String = win_ansi("£216.00")
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        assert!(
            s.contains(&format!("<{hex}>")) || s.contains(&format!("<{}>", hex.to_lowercase())),
            "the amount in pounds"
        );
    }

    #[test]
    fn a_credited_invoice_says_so_not_paid_in_full() {
        let office = Office::default();
        let printable = |closed| Printable {
            office: &office,
            title: "Invoice",
            number: "INV-000043",
            issued_on: NaiveDate::from_ymd_opt(2026, 12, 27).expect("date"),
            to_name: "Ada Lovelace",
            to_address: &[],
            membership_number: "GH0000007",
            description: "Annual subscription",
            amount: Money::from_pence(10_000),
            outstanding: Some(Money::ZERO),
            related: None,
            closed,
        };
        let credited = String::from_utf8_lossy(&render(&printable(Some("Credited")))).into_owned();
        assert!(credited.contains("Credited. There is nothing to pay."));
        assert!(!credited.contains("Paid in full"));
        let paid = String::from_utf8_lossy(&render(&printable(None))).into_owned();
        assert!(paid.contains("Paid in full. Thank you."));
        assert!(paid.contains("27 December 2026"));
    }

    #[test]
    fn long_descriptions_wrap_at_spaces() {
        let lines = wrap("one two three four five six", 9);
        assert_eq!(lines, vec!["one two", "three", "four five", "six"]);
    }
}
