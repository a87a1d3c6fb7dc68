-- Exports read production events by ranges of hours. The table's primary key leads with the machine, so a range of
-- hours alone would scan the whole table; a BRIN index on the hour (tiny, nearly free to maintain, effective because
-- partitions are loaded roughly in time order) lets a day's export read only that day's blocks.
CREATE INDEX production_events_hour_brin ON factory.production_events USING brin (partition_hour);
