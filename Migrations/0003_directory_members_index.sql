-- tenantsync schema version 3: group_members loses its by-member index.
--
-- The index served only the removal of a user or group from every group it
-- belonged to, one object at a time. Removals are now batched: one statement
-- per batch scans the tenant's memberships once (`member_id IN (…)`). The index
-- cost more than half of a full sync's membership writes: its GUID keys arrive
-- in random order, so nearly every insert touched a different page (300,000
-- memberships of 10,000 groups written in batches of 6,000 rows, Python's
-- sqlite3 on the 2-core development machine: 9.1 s of CPU with it, 3.6 s
-- without).

DROP INDEX IF EXISTS group_members_by_member;
