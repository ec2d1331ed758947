//! What the portal and the staff record share about a member's money: the view of their balance,
//! invoices, credit notes, receipts, payments and transaction history, and the tables that show it.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DocDto {
    pub kind: String,
    pub number: String,
    pub issued_on: String,
    pub description: String,
    pub amount: String,
    pub outstanding: String,
    pub status: String,
    pub status_tag: String,
    /// An invoice with something still to pay.
    pub open: bool,
    pub pdf: String,
    /// "PDF, 2 KB".
    pub file: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistDto {
    pub date: String,
    pub what: String,
    pub detail: String,
    /// What it added to what is owed (an invoice), or blank.
    pub charged: String,
    /// What it took off (a payment, a credit note), or blank.
    pub paid: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PaymentDto {
    pub id: String,
    pub label: String,
    pub refundable: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MoneyDto {
    pub number: String,
    pub name: String,
    pub balance: String,
    pub balance_note: String,
    pub documents: Vec<DocDto>,
    pub history: Vec<HistDto>,
    pub payments: Vec<PaymentDto>,
    /// Whether invoices can be paid by card here (a card provider is configured).
    #[serde(default)]
    pub takes_cards: bool,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use guildhall::domain::money::Money;
    use guildhall::domain::payments::{label, METHODS, TRANSACTION_KINDS};
    use guildhall::entity::document::{DocumentKind, DocumentStatus};
    use guildhall::service::money::account::Account;

    /// How a balance reads to the person it belongs to (`own`) or to staff.
    pub fn balance_note(b: Money, own: bool) -> String {
        let abs = b.checked_neg().filter(|_| b.pence() < 0).unwrap_or(b);
        match (b.pence().signum(), own) {
            (1, true) => format!("You owe {abs}"),
            (1, false) => format!("Owes {abs}"),
            (-1, true) => format!("You are {abs} in credit"),
            (-1, false) => format!("{abs} in credit"),
            _ => "Nothing to pay".into(),
        }
    }

    /// A line of the transaction history in words: "Card payment", "Payment by cheque", "Refund to
    /// card", "Invoice".
    pub fn what(kind: &str, method: Option<&str>) -> String {
        let kind_label = label(&TRANSACTION_KINDS, kind);
        match (kind, method) {
            ("bank_payment", Some(m)) => format!("Payment by {}", lower(label(&METHODS, m))),
            ("refund", Some("card")) => "Refund to card".to_owned(),
            ("refund", Some(m)) => format!("Refund by {}", lower(label(&METHODS, m))),
            _ => kind_label.to_owned(),
        }
    }

    /// "Cheque" → "cheque", but "Direct Debit" stays a name.
    fn lower(s: &str) -> String {
        if s == "Direct Debit" {
            s.to_owned()
        } else {
            s.to_lowercase()
        }
    }

    /// The view of `a`, with PDF links under `pdf_prefix` (`/portal/documents` or `/staff/documents`).
    pub fn view(number: String, name: String, a: Account, pdf_prefix: &str, own: bool) -> MoneyDto {
        let d = crate::format::long_date;
        MoneyDto {
            number,
            name,
            balance: a.balance.to_string(),
            balance_note: balance_note(a.balance, own),
            documents: a
                .documents
                .into_iter()
                .map(|x| {
                    let (status, tag) = match x.status {
                        DocumentStatus::Open if x.outstanding != x.amount => {
                            ("Part paid", "tag tag--yellow")
                        }
                        DocumentStatus::Open => ("Due", "tag tag--yellow"),
                        DocumentStatus::Paid => ("Paid", "tag tag--green"),
                        DocumentStatus::Credited => ("Credited", "tag tag--grey"),
                        DocumentStatus::WrittenOff => ("Written off", "tag tag--grey"),
                        DocumentStatus::Issued => ("Issued", "tag tag--grey"),
                    };
                    DocDto {
                        kind: x.kind.title().into(),
                        pdf: format!("{pdf_prefix}/{}.pdf", x.number),
                        file: format!("PDF, {} KB", x.pdf_bytes.div_ceil(1024).max(1)),
                        open: x.kind == DocumentKind::Invoice && x.outstanding.pence() > 0,
                        number: x.number,
                        issued_on: d(x.issued_on),
                        description: x.description,
                        amount: x.amount.to_string(),
                        outstanding: x.outstanding.to_string(),
                        status: status.into(),
                        status_tag: tag.into(),
                    }
                })
                .collect(),
            history: a
                .history
                .into_iter()
                .map(|h| HistDto {
                    date: d(h.date),
                    what: what(&h.kind, h.method.as_deref()),
                    // A card provider's reference means nothing to the member.
                    detail: if own && h.method.as_deref() == Some("card") {
                        "Paid online by card".to_owned()
                    } else {
                        h.cause
                    },
                    charged: if h.amount.pence() > 0 {
                        h.amount.to_string()
                    } else {
                        String::new()
                    },
                    paid: if h.amount.pence() < 0 {
                        Money::from_pence(-h.amount.pence()).to_string()
                    } else {
                        String::new()
                    },
                })
                .collect(),
            payments: a
                .payments
                .into_iter()
                .map(|p| {
                    let left = p.amount.pence() - p.refunded.pence();
                    PaymentDto {
                        id: p.id.to_string(),
                        label: format!(
                            "{} {} of {} on {}{}",
                            label(&METHODS, &p.method),
                            p.reference,
                            p.amount,
                            d(p.received_on),
                            if p.refunded.is_zero() {
                                String::new()
                            } else {
                                format!(" ({} refunded)", p.refunded)
                            }
                        ),
                        refundable: left > 0,
                    }
                })
                .collect(),
            takes_cards: false,
        }
    }
}

use leptos::prelude::*;

/// Documents and history tables, for the portal and the staff record alike.
#[component]
pub fn MoneyTables(m: MoneyDto) -> impl IntoView {
    let docs = m.documents.clone();
    let hist = m.history.clone();
    view! {
        <h2 class="heading-m">"Invoices, credit notes and receipts"</h2>
        {if docs.is_empty() {
            view! { <p class="body">"None yet."</p> }.into_any()
        } else {
            view! {
                <table class="table">
                    <caption class="visually-hidden">"Invoices, credit notes and receipts, newest first"</caption>
                    <thead><tr><th scope="col">"Document"</th><th scope="col">"Date"</th><th scope="col">"For"</th><th scope="col" class="table__num">"Amount"</th><th scope="col">"Status"</th></tr></thead>
                    <tbody>
                        {docs.into_iter().map(|x| view! {
                            <tr>
                                <td data-label="Document"><a href=x.pdf.clone() rel="external" download=format!("{}.pdf", x.number)>{format!("{} {}", x.kind, x.number)}</a>" "<span class="file-size">{format!("({})", x.file)}</span></td>
                                <td data-label="Date">{x.issued_on.clone()}</td>
                                <td data-label="For">{x.description.clone()}</td>
                                <td data-label="Amount" class="table__num">{x.amount.clone()}</td>
                                <td data-label="Status"><strong class=x.status_tag.clone()>{x.status.clone()}</strong>{x.open.then(|| format!(" {} to pay", x.outstanding))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <h2 class="heading-m">"Transaction history"</h2>
        {if hist.is_empty() {
            view! { <p class="body">"No transactions yet."</p> }.into_any()
        } else {
            view! {
                <table class="table">
                    <caption class="visually-hidden">"Transactions, newest first"</caption>
                    <thead><tr><th scope="col">"Date"</th><th scope="col">"What"</th><th scope="col">"Detail"</th><th scope="col" class="table__num">"Charged"</th><th scope="col" class="table__num">"Paid or credited"</th></tr></thead>
                    <tbody>
                        {hist.into_iter().map(|h| view! {
                            <tr>
                                <td data-label="Date">{h.date}</td>
                                <td data-label="What">{h.what}</td>
                                <td data-label="Detail">{h.detail}</td>
                                <td data-label="Charged" class="table__num">{h.charged}</td>
                                <td data-label="Paid or credited" class="table__num">{h.paid}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}
