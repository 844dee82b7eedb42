-- tenantsync schema version 4: Exchange Online (Inline Mode) accounts record the
-- policy enabled on completion and the mail-flow direction (inbound, or inbound
-- and outbound) configured in Exchange Online.

ALTER TABLE service_accounts ADD COLUMN inline_policy TEXT;
ALTER TABLE service_accounts ADD COLUMN inline_direction TEXT
    CHECK (inline_direction IS NULL OR inline_direction IN ('inbound', 'both'));
