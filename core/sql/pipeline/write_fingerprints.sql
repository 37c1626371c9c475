-- The fingerprints init computes for tasks stored before versions existed ($1:
-- [{id, output}], output as core/pipeline_version.c writes it); returns their ids.
UPDATE @schema@.tasks t
SET fingerprint = md5(x.output)
FROM jsonb_to_recordset($1::jsonb) AS x(id integer, output text)
WHERE t.id = x.id
RETURNING t.id
