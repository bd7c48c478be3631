-- Step-up (issue 25, RFC 9470): when and how the person behind a session last proved who they
-- are — at sign-in, then at each re-authentication. NULL (sessions older than this migration):
-- its `created_at`, by password. Access tokens carry them as `auth_time` and `amr`.
ALTER TABLE sessions ADD COLUMN auth_time BIGINT;      -- unix ms
ALTER TABLE sessions ADD COLUMN amr TEXT;              -- 'pwd' or 'hwk user' (space-separated)
