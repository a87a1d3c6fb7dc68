-- One row per sample of the lab day: the staged rows as they are (the format already kept the latest inspection of a
-- re-measured sample), stamped with the partition's day.
SELECT {{partition_date}}, sample_id, sku, machine_id, inspected_at, inspector, weight_g, diameter_mm, coating_um,
       result, defect, line_no, {{source_sha256}}
FROM {{staged}}
