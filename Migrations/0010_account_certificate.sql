-- tenantsync schema version 10: a Teams Chat account's own app may authenticate
-- with a certificate credential instead of a client secret.
--
-- The certificate is public (it is uploaded to the app registration) and kept as
-- PEM text; its private key is sealed like the client secret (AES-GCM under the
-- store's key, bound to the row), never stored in clear. An account has either a
-- sealed secret or a certificate and sealed key, never both; its expiry is the
-- certificate's notAfter, kept in credential_expiries (kind 'certificate').

ALTER TABLE service_accounts ADD COLUMN client_certificate_pem TEXT;
ALTER TABLE service_accounts ADD COLUMN client_key_sealed BLOB;
