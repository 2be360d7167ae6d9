"""What the model sees, and what it costs: token accounting, tool outputs cut at insertion
with the full text kept on disk, observation masking and structured compaction, with the
request prefix kept byte-stable between compactions so provider prompt caches hit."""
