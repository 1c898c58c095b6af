-- definition: {"all":[{"trait":{"name":"plan","op":"eq","value":"pro"}},{"event":{"name":"Order Completed","within":{"last":{"days":30}}}}]}
-- request: {"segmentId":"pro-buyers","exportId":"x0000000003","identifiers":["email","phone"],"traits":["plan","address"],"previousExportId":"x0000000002"}
-- columns: [{"kind":"identifier","name":"email"},{"kind":"identifier","name":"phone"},{"kind":"trait","name":"plan"},{"kind":"trait","name":"address"}]

-- members
-- params at 2026-11-22T12:00:00.000Z: ["Order Completed","2026-10-23","2026-10-23 12:00:00.000","2026-11-22 12:00:00.000","pro",1,"email","phone"]
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
members AS (
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
LEFT JOIN event_1 ON event_1.profile_id = u.profile_id
WHERE (coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE)
  AND (coalesce(event_1.n, 0) >= CAST(? AS DOUBLE)))
),
col_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT profile_id, id_value AS v,
      row_number() OVER (PARTITION BY profile_id ORDER BY linked_at DESC, id_value DESC) AS rn
    FROM links
    WHERE id_type = ?
  ) i
  WHERE rn = 1
),
col_1 AS (
  SELECT profile_id, v
  FROM (
    SELECT profile_id, id_value AS v,
      row_number() OVER (PARTITION BY profile_id ORDER BY linked_at DESC, id_value DESC) AS rn
    FROM links
    WHERE id_type = ?
  ) i
  WHERE rn = 1
),
col_2 AS (
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
col_3 AS (
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
SELECT m.profile_id,
  col_0.v AS "c0",
  col_1.v AS "c1",
  CASE WHEN substr(json_format(col_2.v), 1, 1) IN ('{', '[') THEN json_format(col_2.v) ELSE json_extract_scalar(col_2.v, '$') END AS "c2",
  CASE WHEN substr(json_format(col_3.v), 1, 1) IN ('{', '[') THEN json_format(col_3.v) ELSE json_extract_scalar(col_3.v, '$') END AS "c3"
FROM members m
LEFT JOIN col_0 ON col_0.profile_id = m.profile_id
LEFT JOIN col_1 ON col_1.profile_id = m.profile_id
LEFT JOIN col_2 ON col_2.profile_id = m.profile_id
LEFT JOIN col_3 ON col_3.profile_id = m.profile_id
ORDER BY m.profile_id;

-- audience
-- params at 2026-11-22T12:00:00.000Z: ["pro-buyers","x0000000003"]
SELECT profile_id, c0 AS "email", c1 AS "phone", c2 AS "plan", c3 AS "address"
FROM "export_members"
WHERE segment_id = ? AND export_id = ?
ORDER BY profile_id;

-- changes
-- params at 2026-11-22T12:00:00.000Z: ["pro-buyers","x0000000003","pro-buyers","x0000000002"]
SELECT coalesce(c.profile_id, p.profile_id) AS profile_id, CASE WHEN p.profile_id IS NULL THEN 'added' ELSE 'removed' END AS change
FROM
  (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) c
  FULL OUTER JOIN (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) p
  ON c.profile_id = p.profile_id
WHERE c.profile_id IS NULL OR p.profile_id IS NULL
ORDER BY change, profile_id;

-- counts
-- params at 2026-11-22T12:00:00.000Z: ["pro-buyers","x0000000003","pro-buyers","x0000000002"]
SELECT count(c.profile_id) AS member_count,
  sum(CASE WHEN p.profile_id IS NULL THEN 1 ELSE 0 END) AS added,
  sum(CASE WHEN c.profile_id IS NULL THEN 1 ELSE 0 END) AS removed
FROM
  (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) c
  FULL OUTER JOIN (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) p
  ON c.profile_id = p.profile_id
;

-- members, unloaded
UNLOAD (
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
members AS (
SELECT u.profile_id
FROM profiles u
LEFT JOIN trait_0 ON trait_0.profile_id = u.profile_id
LEFT JOIN event_1 ON event_1.profile_id = u.profile_id
WHERE (coalesce(substr(json_format(trait_0.v), 1, 1) = '"' AND json_extract_scalar(trait_0.v, '$') = ?, FALSE)
  AND (coalesce(event_1.n, 0) >= CAST(? AS DOUBLE)))
),
col_0 AS (
  SELECT profile_id, v
  FROM (
    SELECT profile_id, id_value AS v,
      row_number() OVER (PARTITION BY profile_id ORDER BY linked_at DESC, id_value DESC) AS rn
    FROM links
    WHERE id_type = ?
  ) i
  WHERE rn = 1
),
col_1 AS (
  SELECT profile_id, v
  FROM (
    SELECT profile_id, id_value AS v,
      row_number() OVER (PARTITION BY profile_id ORDER BY linked_at DESC, id_value DESC) AS rn
    FROM links
    WHERE id_type = ?
  ) i
  WHERE rn = 1
),
col_2 AS (
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
col_3 AS (
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
SELECT m.profile_id,
  col_0.v AS "c0",
  col_1.v AS "c1",
  CASE WHEN substr(json_format(col_2.v), 1, 1) IN ('{', '[') THEN json_format(col_2.v) ELSE json_extract_scalar(col_2.v, '$') END AS "c2",
  CASE WHEN substr(json_format(col_3.v), 1, 1) IN ('{', '[') THEN json_format(col_3.v) ELSE json_extract_scalar(col_3.v, '$') END AS "c3"
FROM members m
LEFT JOIN col_0 ON col_0.profile_id = m.profile_id
LEFT JOIN col_1 ON col_1.profile_id = m.profile_id
LEFT JOIN col_2 ON col_2.profile_id = m.profile_id
LEFT JOIN col_3 ON col_3.profile_id = m.profile_id
ORDER BY m.profile_id
) TO 's3://mosaic-exports/exports/segment_id=pro-buyers/export_id=x0000000003/members/' WITH (format = 'PARQUET', compression = 'SNAPPY');

-- changes, unloaded
UNLOAD (
SELECT coalesce(c.profile_id, p.profile_id) AS profile_id, CASE WHEN p.profile_id IS NULL THEN 'added' ELSE 'removed' END AS change
FROM
  (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) c
  FULL OUTER JOIN (SELECT profile_id FROM "export_members" WHERE segment_id = ? AND export_id = ?) p
  ON c.profile_id = p.profile_id
WHERE c.profile_id IS NULL OR p.profile_id IS NULL
ORDER BY change, profile_id
) TO 's3://mosaic-exports/exports/segment_id=pro-buyers/export_id=x0000000003/changes/' WITH (format = 'PARQUET', compression = 'SNAPPY');
