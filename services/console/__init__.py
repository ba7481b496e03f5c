"""The officials' console (관리자 화면): work queue, overdue review, cases, remedies, compliance and
satisfaction statistics, and the yearly satisfaction report, for the officials, department heads,
auditors and administrators of one agency. Its own database: accounts and sessions, and a projection of
the log it reads; it writes only through the other services' APIs."""
