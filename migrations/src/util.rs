//! Small helpers the migration steps share. They build plain sea-query statements and never refer to
//! the crate's entities, so a step written with them keeps its meaning.

use sea_orm_migration::prelude::*;

/// A foreign key to `to_table.id`, refusing deletes of the referenced row.
pub fn fk(
    name: &str,
    from_table: &'static str,
    from_col: &'static str,
    to_table: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(name)
        .from(from_table, from_col)
        .to(to_table, "id")
        .on_delete(ForeignKeyAction::Restrict)
        .to_owned()
}

/// A (non-unique) index on `cols`, in order.
pub fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(table);
    for c in cols {
        i.col(*c);
    }
    i.to_owned()
}
