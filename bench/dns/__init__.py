"""The DNS benchmark: lms.mail.spf_record against the community modules (bench/README.md)."""
