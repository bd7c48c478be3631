-- One normalized form of each username (NFKC + Unicode case folding, computed by the server:
-- server/src/users/credentials.rs name_key), by which accounts are found and unique — instead
-- of the database's lower(), which depends on its locale and differed from the throttle's
-- keys. Usernames have always been ASCII ([A-Za-z0-9_.-]), whose key is their ASCII lowercase
-- (COLLATE "C": lower() in, say, a tr_TR database would map I to ı).
ALTER TABLE users ADD COLUMN username_key TEXT;
UPDATE users SET username_key = lower(username COLLATE "C");
CREATE UNIQUE INDEX users_by_key ON users (username_key);
DROP INDEX users_by_lower_name;
ALTER TABLE users ALTER COLUMN username_key SET NOT NULL;
