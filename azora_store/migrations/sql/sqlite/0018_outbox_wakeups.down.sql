-- Nothing to drop: SQLite workers learn of commits from the WAL file
-- (inotify) or PRAGMA data_version. A statement keeps the file non-empty.
SELECT 1;
