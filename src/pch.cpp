// Anchor for the torch precompiled header (and the source of otherwise empty layers).
