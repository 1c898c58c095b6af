-- issue example: {"all":[{"trait":{"name":"plan","op":"eq","value":"pro"}},{"event":{"name":"Order Completed","count":{"op":"gte","value":2},"within":{"last":{"days":30}}}},{"not":{"event":{"name":"Support Ticket Opened","within":{"last":{"days":7}}}}}]}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-10-23","2026-10-23 12:00:00.000","2026-11-22 12:00:00.000","Support Ticket Opened","2026-11-15","2026-11-15 12:00:00.000","2026-11-22 12:00:00.000","pro",2,1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
),
event_1 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
),
event_2 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
LEFT JOIN event_1 ON event_1.profile_id = u.profile_id
LEFT JOIN event_2 ON event_2.profile_id = u.profile_id
WHERE (coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE)
  AND (coalesce(event_1.n, 0) >= CAST(? AS DOUBLE))
  AND (NOT (coalesce(event_2.n, 0) >= CAST(? AS DOUBLE))))
ORDER BY u.profile_id;

-- trait eq string: {"trait":{"name":"plan","op":"eq","value":"pro"}}
-- params at 2026-11-22T12:00:00.000Z: ["pro"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE)
ORDER BY u.profile_id;

-- trait eq number: {"trait":{"name":"age","op":"eq","value":42}}
-- params at 2026-11-22T12:00:00.000Z: [42]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) = CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait eq boolean: {"trait":{"name":"vip","op":"eq","value":true}}
-- params at 2026-11-22T12:00:00.000Z: ["true"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.vip') END, json_extract(e."context", '$.traits.vip')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'vip') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'vip') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(json_format(trait_0.v) = ?, FALSE)
ORDER BY u.profile_id;

-- trait neq: {"trait":{"name":"plan","op":"neq","value":"pro"}}
-- params at 2026-11-22T12:00:00.000Z: ["pro"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE (coalesce(json_format(trait_0.v) <> 'null', FALSE) AND NOT coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE))
ORDER BY u.profile_id;

-- trait in strings: {"trait":{"name":"plan","op":"in","value":["pro","team"]}}
-- params at 2026-11-22T12:00:00.000Z: ["pro","team"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') IN (?, ?), FALSE)
ORDER BY u.profile_id;

-- trait in numbers: {"trait":{"name":"tier","op":"in","value":[1,2.5]}}
-- params at 2026-11-22T12:00:00.000Z: [1,2.5]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.tier') END, json_extract(e."context", '$.traits.tier')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'tier') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'tier') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) IN (CAST(? AS DOUBLE), CAST(? AS DOUBLE)), FALSE)
ORDER BY u.profile_id;

-- trait not_in: {"trait":{"name":"plan","op":"not_in","value":["free"]}}
-- params at 2026-11-22T12:00:00.000Z: ["free"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE (coalesce(json_format(trait_0.v) <> 'null', FALSE) AND NOT coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') IN (?), FALSE))
ORDER BY u.profile_id;

-- trait contains: {"trait":{"name":"email","op":"contains","value":"@example.com"}}
-- params at 2026-11-22T12:00:00.000Z: ["@example.com"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.email') END, json_extract(e."context", '$.traits.email')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'email') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'email') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND strpos(json_extract_scalar(trait_0.v, '$'), ?) > 0, FALSE)
ORDER BY u.profile_id;

-- trait starts_with: {"trait":{"name":"phone","op":"starts_with","value":"+44"}}
-- params at 2026-11-22T12:00:00.000Z: ["+44"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.phone') END, json_extract(e."context", '$.traits.phone')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'phone') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'phone') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND starts_with(json_extract_scalar(trait_0.v, '$'), ?), FALSE)
ORDER BY u.profile_id;

-- trait exists: {"trait":{"name":"plan","op":"exists"}}
-- params at 2026-11-22T12:00:00.000Z: []
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(json_format(trait_0.v) <> 'null', FALSE)
ORDER BY u.profile_id;

-- trait not_exists: {"trait":{"name":"plan","op":"not_exists"}}
-- params at 2026-11-22T12:00:00.000Z: []
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE (NOT coalesce(json_format(trait_0.v) <> 'null', FALSE))
ORDER BY u.profile_id;

-- trait gt: {"trait":{"name":"age","op":"gt","value":18}}
-- params at 2026-11-22T12:00:00.000Z: [18]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) > CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait gte: {"trait":{"name":"age","op":"gte","value":18}}
-- params at 2026-11-22T12:00:00.000Z: [18]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) >= CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait lt: {"trait":{"name":"age","op":"lt","value":65}}
-- params at 2026-11-22T12:00:00.000Z: [65]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) < CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait lte: {"trait":{"name":"age","op":"lte","value":65}}
-- params at 2026-11-22T12:00:00.000Z: [65]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) <= CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait between: {"trait":{"name":"age","op":"between","value":[18,65]}}
-- params at 2026-11-22T12:00:00.000Z: [18,65]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.age') END, json_extract(e."context", '$.traits.age')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'age') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'age') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(trait_0.v, '$') AS DOUBLE) BETWEEN CAST(? AS DOUBLE) AND CAST(? AS DOUBLE), FALSE)
ORDER BY u.profile_id;

-- trait before absolute: {"trait":{"name":"signup","op":"before","value":"2026-01-01"}}
-- params at 2026-11-22T12:00:00.000Z: ["2026-01-01T00:00:00.000Z"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.signup') END, json_extract(e."context", '$.traits.signup')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'signup') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'signup') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND regexp_like(json_extract_scalar(trait_0.v, '$'), '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$') AND try(from_iso8601_timestamp(json_extract_scalar(trait_0.v, '$'))) < from_iso8601_timestamp(?), FALSE)
ORDER BY u.profile_id;

-- trait after relative: {"trait":{"name":"signup","op":"after","value":{"ago":{"days":30}}}}
-- params at 2026-11-22T12:00:00.000Z: ["2026-10-23T12:00:00.000Z"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.signup') END, json_extract(e."context", '$.traits.signup')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'signup') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'signup') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND regexp_like(json_extract_scalar(trait_0.v, '$'), '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$') AND try(from_iso8601_timestamp(json_extract_scalar(trait_0.v, '$'))) >= from_iso8601_timestamp(?), FALSE)
ORDER BY u.profile_id;

-- trait nested path: {"trait":{"name":"address.city","op":"eq","value":"Paris"}}
-- params at 2026-11-22T12:00:00.000Z: ["Paris"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.address') END, json_extract(e."context", '$.traits.address')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'address') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'address') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
WHERE coalesce(substr(json_format(json_extract(trait_0.v, '$.city')), 1, 1) = '"' AND json_extract_scalar(json_extract(trait_0.v, '$.city'), '$') = ?, FALSE)
ORDER BY u.profile_id;

-- event performed: {"event":{"name":"Order Completed"}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event not performed: {"event":{"name":"Order Completed","performed":false}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",0]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) = CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count eq: {"event":{"name":"Order Completed","count":{"op":"eq","value":3}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) = CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count neq: {"event":{"name":"Order Completed","count":{"op":"neq","value":3}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) <> CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count gt: {"event":{"name":"Order Completed","count":{"op":"gt","value":3}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) > CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count lt: {"event":{"name":"Order Completed","count":{"op":"lt","value":3}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) < CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count lte: {"event":{"name":"Order Completed","count":{"op":"lte","value":3}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) <= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event count between: {"event":{"name":"Order Completed","count":{"op":"between","value":[2,5]}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",2,5]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) BETWEEN CAST(? AS DOUBLE) AND CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event within last minutes: {"event":{"name":"Order Completed","within":{"last":{"minutes":90}}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-11-22","2026-11-22 10:30:00.000","2026-11-22 12:00:00.000",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event within last hours: {"event":{"name":"Order Completed","within":{"last":{"hours":6}}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-11-22","2026-11-22 06:00:00.000","2026-11-22 12:00:00.000",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- event within dates: {"event":{"name":"Order Completed","within":{"from":"2026-11-01","to":"2026-11-30T23:59:59Z"}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-10-31","2026-11-01 00:00:00.000","2026-11-30 23:59:59.000",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property eq: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"eq","value":"EUR"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","EUR",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND json_extract_scalar(json_extract(e."properties", '$.currency'), '$') = ?, FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property neq: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"neq","value":"EUR"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","EUR",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND (coalesce(json_format(json_extract(e."properties", '$.currency')) <> 'null', FALSE) AND NOT coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND json_extract_scalar(json_extract(e."properties", '$.currency'), '$') = ?, FALSE))
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property in: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"in","value":["EUR","USD"]}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","EUR","USD",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND json_extract_scalar(json_extract(e."properties", '$.currency'), '$') IN (?, ?), FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property not_in: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"not_in","value":["EUR"]}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","EUR",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND (coalesce(json_format(json_extract(e."properties", '$.currency')) <> 'null', FALSE) AND NOT coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND json_extract_scalar(json_extract(e."properties", '$.currency'), '$') IN (?), FALSE))
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property contains: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"contains","value":"U"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","U",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND strpos(json_extract_scalar(json_extract(e."properties", '$.currency'), '$'), ?) > 0, FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property starts_with: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"starts_with","value":"E"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","E",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND starts_with(json_extract_scalar(json_extract(e."properties", '$.currency'), '$'), ?), FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property exists: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"exists"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(json_format(json_extract(e."properties", '$.currency')) <> 'null', FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property not_exists: {"event":{"name":"Order Completed","where":[{"property":"currency","op":"not_exists"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND (NOT coalesce(json_format(json_extract(e."properties", '$.currency')) <> 'null', FALSE))
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property gt: {"event":{"name":"Order Completed","where":[{"property":"total","op":"gt","value":10}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",10,1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.total')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(json_extract(e."properties", '$.total'), '$') AS DOUBLE) > CAST(? AS DOUBLE), FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property between: {"event":{"name":"Order Completed","where":[{"property":"total","op":"between","value":[10,20]}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",10,20,1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.total')), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') AND try_cast(json_extract_scalar(json_extract(e."properties", '$.total'), '$') AS DOUBLE) BETWEEN CAST(? AS DOUBLE) AND CAST(? AS DOUBLE), FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- property after: {"event":{"name":"Order Completed","where":[{"property":"shipped_at","op":"after","value":{"ago":{"hours":1}}}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-11-22T11:00:00.000Z",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.shipped_at')), 1, 1) = '"' AND regexp_like(json_extract_scalar(json_extract(e."properties", '$.shipped_at'), '$'), '^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}([.][0-9]{1,9})?)?(Z|[+-][0-9]{2}:[0-9]{2}))?$') AND try(from_iso8601_timestamp(json_extract_scalar(json_extract(e."properties", '$.shipped_at'), '$'))) >= from_iso8601_timestamp(?), FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- aggregate sum: {"aggregate":{"fn":"sum","event":"Order Completed","property":"total","op":"gte","value":100}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",100]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
aggregate_0 AS (
  SELECT profile_id, sum(CASE WHEN substr(json_format(v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN try_cast(json_extract_scalar(v, '$') AS DOUBLE) END) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, json_extract(e."properties", '$.total') AS v,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN aggregate_0 ON aggregate_0.profile_id = u.profile_id
WHERE (coalesce(aggregate_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- aggregate avg: {"aggregate":{"fn":"avg","event":"Order Completed","property":"total","op":"gte","value":100,"within":{"last":{"days":90}}}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-08-24","2026-08-24 12:00:00.000","2026-11-22 12:00:00.000",100]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
aggregate_0 AS (
  SELECT profile_id, avg(CASE WHEN substr(json_format(v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN try_cast(json_extract_scalar(v, '$') AS DOUBLE) END) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, json_extract(e."properties", '$.total') AS v,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN aggregate_0 ON aggregate_0.profile_id = u.profile_id
WHERE coalesce((aggregate_0.n >= CAST(? AS DOUBLE)), FALSE)
ORDER BY u.profile_id;

-- aggregate min: {"aggregate":{"fn":"min","event":"Order Completed","property":"total","op":"lt","value":5}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",5]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
aggregate_0 AS (
  SELECT profile_id, min(CASE WHEN substr(json_format(v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN try_cast(json_extract_scalar(v, '$') AS DOUBLE) END) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, json_extract(e."properties", '$.total') AS v,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN aggregate_0 ON aggregate_0.profile_id = u.profile_id
WHERE coalesce((aggregate_0.n < CAST(? AS DOUBLE)), FALSE)
ORDER BY u.profile_id;

-- aggregate max: {"aggregate":{"fn":"max","event":"Order Completed","property":"total","op":"between","value":[1,2]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",1,2]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
aggregate_0 AS (
  SELECT profile_id, max(CASE WHEN substr(json_format(v), 1, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') THEN try_cast(json_extract_scalar(v, '$') AS DOUBLE) END) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, json_extract(e."properties", '$.total') AS v,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN aggregate_0 ON aggregate_0.profile_id = u.profile_id
WHERE coalesce((aggregate_0.n BETWEEN CAST(? AS DOUBLE) AND CAST(? AS DOUBLE)), FALSE)
ORDER BY u.profile_id;

-- aggregate count_distinct: {"aggregate":{"fn":"count_distinct","event":"Order Completed","property":"sku","op":"gte","value":3,"where":[{"property":"currency","op":"eq","value":"EUR"}]}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","EUR",3]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
aggregate_0 AS (
  SELECT profile_id, count(DISTINCT CASE WHEN substr(json_format(v), 1, 1) NOT IN ('{', '[', 'n') THEN json_extract_scalar(v, '$') END) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, json_extract(e."properties", '$.sku') AS v,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND coalesce(substr(json_format(json_extract(e."properties", '$.currency')), 1, 1) = '"' AND json_extract_scalar(json_extract(e."properties", '$.currency'), '$') = ?, FALSE)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN aggregate_0 ON aggregate_0.profile_id = u.profile_id
WHERE (coalesce(aggregate_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- first_seen after: {"first_seen":{"op":"after","value":{"ago":{"days":7}}}}
-- params at 2026-11-22T12:00:00.000Z: ["2026-11-15 12:00:00.000"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
seen_0 AS (
  SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen
  FROM (
    SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id,
      min(e."timestamp") AS first_seen, max(e."timestamp") AS last_seen
    FROM "events" e
    GROUP BY e."user_id", e."anonymous_id"
  ) s
  LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(s.user_id)
  LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(s.anonymous_id)
  WHERE coalesce(lu.profile_id, la.profile_id) IS NOT NULL
  GROUP BY coalesce(lu.profile_id, la.profile_id)
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN seen_0 ON seen_0.profile_id = u.profile_id
WHERE coalesce(seen_0.first_seen >= CAST(? AS TIMESTAMP), FALSE)
ORDER BY u.profile_id;

-- last_seen before: {"last_seen":{"op":"before","value":"2026-06-01T00:00:00Z"}}
-- params at 2026-11-22T12:00:00.000Z: ["2026-06-01 00:00:00.000"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
seen_0 AS (
  SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, min(s.first_seen) AS first_seen, max(s.last_seen) AS last_seen
  FROM (
    SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id,
      min(e."timestamp") AS first_seen, max(e."timestamp") AS last_seen
    FROM "events" e
    GROUP BY e."user_id", e."anonymous_id"
  ) s
  LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(s.user_id)
  LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(s.anonymous_id)
  WHERE coalesce(lu.profile_id, la.profile_id) IS NOT NULL
  GROUP BY coalesce(lu.profile_id, la.profile_id)
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN seen_0 ON seen_0.profile_id = u.profile_id
WHERE coalesce(seen_0.last_seen < CAST(? AS TIMESTAMP), FALSE)
ORDER BY u.profile_id;

-- consent: {"consent":{"category":"Advertising"}}
-- params at 2026-11-22T12:00:00.000Z: []
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
consent_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, json_extract(e."context", '$.consent.categoryPreferences') AS v
          FROM "events" e
          WHERE (strpos(e."context", 'categoryPreferences') > 0 OR strpos(e."context", '\u') > 0)
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE substr(json_format(w.v), 1, 1) = '{' AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN consent_0 ON consent_0.profile_id = u.profile_id
WHERE coalesce(json_format(json_extract(consent_0.v, '$.Advertising')) = 'true', FALSE)
ORDER BY u.profile_id;

-- segment reference: {"segment":{"id":"buyers"}}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-10-23","2026-10-23 12:00:00.000","2026-11-22 12:00:00.000",1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
      AND e."dt" >= ?
      AND e."timestamp" >= CAST(? AS TIMESTAMP)
      AND e."timestamp" <= CAST(? AS TIMESTAMP)
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
ORDER BY u.profile_id;

-- all any not: {"any":[{"all":[{"trait":{"name":"plan","op":"exists"}},{"not":{"trait":{"name":"plan","op":"eq","value":"free"}}}]},{"consent":{"category":"Ads"}}]}
-- params at 2026-11-22T12:00:00.000Z: ["free"]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
trait_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, coalesce(CASE WHEN e."type" = 'identify' THEN json_extract(e."traits", '$.plan') END, json_extract(e."context", '$.traits.plan')) AS v
          FROM "events" e
          WHERE ((strpos(e."traits", 'plan') > 0 OR strpos(e."traits", '\u') > 0) OR (strpos(e."context", 'plan') > 0 OR strpos(e."context", '\u') > 0))
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE w.v IS NOT NULL AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
),
consent_1 AS (
  SELECT profile_id, v
  FROM (
    SELECT c.profile_id, c.v, row_number() OVER (PARTITION BY c.profile_id ORDER BY substr(lower(to_hex(sha256(to_utf8(concat('message', chr(0), c.source, chr(0), c.message_id))))), 1, 16) DESC) AS rn
    FROM (
      SELECT p.*, max(p.ts) OVER (PARTITION BY p.profile_id) AS latest
      FROM (
        SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id, w.v, w.ts, w.source, w.message_id
        FROM (
          SELECT e."user_id" AS user_id, e."anonymous_id" AS anonymous_id, e."timestamp" AS ts,
            e."source" AS source, e."message_id" AS message_id, json_extract(e."context", '$.consent.categoryPreferences') AS v
          FROM "events" e
          WHERE (strpos(e."context", 'categoryPreferences') > 0 OR strpos(e."context", '\u') > 0)
        ) w
        LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(w.user_id)
        LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(w.anonymous_id)
        WHERE substr(json_format(w.v), 1, 1) = '{' AND coalesce(lu.profile_id, la.profile_id) IS NOT NULL
      ) p
    ) c
    WHERE c.ts = c.latest OR c.latest IS NULL
  ) r
  WHERE rn = 1
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
LEFT JOIN consent_1 ON consent_1.profile_id = u.profile_id
WHERE ((coalesce(json_format(trait_0.v) <> 'null', FALSE)
  AND (NOT coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE)))
  OR coalesce(json_format(json_extract(consent_1.v, '$.Ads')) = 'true', FALSE))
ORDER BY u.profile_id;

-- the same condition twice is computed once: {"any":[{"event":{"name":"Order Completed"}},{"not":{"event":{"name":"Order Completed"}}}]}
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed",1,1]
WITH links AS (
  SELECT "id_type" AS id_type, "id_value" AS id_value, "profile_id" AS profile_id, "linked_at" AS linked_at
  FROM (
    SELECT "id_type", "id_value", "profile_id", "linked_at",
      row_number() OVER (PARTITION BY "id_type", "id_value" ORDER BY "linked_at" DESC, "profile_id" DESC) AS rn
    FROM "identity_links"
  ) l
  WHERE rn = 1
),
profiles AS (
  SELECT DISTINCT profile_id FROM links
),
event_0 AS (
  SELECT profile_id, count(*) AS n
  FROM (
    SELECT coalesce(lu.profile_id, la.profile_id) AS profile_id,
      row_number() OVER (PARTITION BY e."source", e."message_id", coalesce(lu.profile_id, la.profile_id) ORDER BY e."received_at") AS copy
    FROM "events" e
    LEFT JOIN links lu ON lu.id_type = 'user_id' AND lu.id_value = trim(e."user_id")
    LEFT JOIN links la ON la.id_type = 'anonymous_id' AND la.id_value = trim(e."anonymous_id")
    WHERE e."type" = 'track'
      AND e."event" = ?
  ) x
  WHERE copy = 1 AND profile_id IS NOT NULL
  GROUP BY profile_id
)
SELECT u.profile_id
FROM profiles u
LEFT JOIN event_0 ON event_0.profile_id = u.profile_id
WHERE ((coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))
  OR (NOT (coalesce(event_0.n, 0) >= CAST(? AS DOUBLE))))
ORDER BY u.profile_id;
