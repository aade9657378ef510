//! chat tests come next
