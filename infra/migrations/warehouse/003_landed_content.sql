-- The sweep remembers the content hash of each landed file version, so a nightly sweep hashes only new versions.
ALTER TABLE ops.landed_files ADD COLUMN content_sha256 text;
