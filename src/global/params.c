/*
 * dirmail's parameters.  Keep the rows sorted by name (a unit test checks):
 * cfg_param_find() searches them with bsearch().
 */

#include "config.h"

#include <stdlib.h>

#include "global/params.h"

#define ROW(n, t, d, lo, hi, u, f, c, h) { #n, t, d, lo, hi, u, f, c, h }
#define S(n, d, h)		ROW(n, CFG_STRING, d, 0, 0, 0, 0, NULL, h)
#define E(n, d, c, h)		ROW(n, CFG_STRING, d, 0, 0, 0, 0, c, h)
#define B(n, d, h)		ROW(n, CFG_BOOL, d, 0, 0, 0, 0, NULL, h)
#define I(n, d, lo, hi, h)	ROW(n, CFG_INT, d, lo, hi, 0, 0, NULL, h)
#define Z(n, d, lo, hi, h)	ROW(n, CFG_SIZE, d, lo, hi, 0, 0, NULL, h)
#define D(n, d, u, lo, hi, h)	ROW(n, CFG_DURATION, d, lo, hi, u, 0, NULL, h)
#define L(n, d, h)		ROW(n, CFG_LIST, d, 0, 0, 0, 0, NULL, h)
#define P(n, d, h)		ROW(n, CFG_LIST, d, 0, 0, 0, CFG_F_COMMA_LIST, NULL, h)
#define C(n, d, h)		ROW(n, CFG_CIDR_LIST, d, 0, 0, 0, 0, NULL, h)
#define T(n, d, h)		ROW(n, CFG_TABLE_LIST, d, 0, 0, 0, 0, NULL, h)
#define F(n, d, h)		ROW(n, CFG_FILE, d, 0, 0, 0, 0, NULL, h)

const struct cfg_param dirmail_params[] = {
	T(alias_database, "lmdb:/etc/aliases", "alias tables that newaliases builds"),
	T(alias_maps, "lmdb:/etc/aliases", "alias tables for local (mydestination) recipients"),
	L(allow_mail_to_commands, "alias, forward", "where |command destinations are allowed (alias, forward, include)"),
	L(allow_mail_to_files, "alias, forward", "where /file destinations are allowed (alias, forward, include)"),
	D(anvil_rate_time_unit, "60s", 's', 1, 0, "the time unit of the rate limits"),
	D(auth_cache_negative_ttl, "1h", 's', 0, 0, "how long a cached unknown user stays valid"),
	Z(auth_cache_size, "0", 0, 0, "the size of the authentication cache (0: off)"),
	D(auth_cache_ttl, "1h", 's', 0, 0, "how long a cached authentication stays valid"),
	S(auth_default_realm, "", "the domain appended to logins without one"),
	D(auth_failure_delay, "2s", 's', 0, 0, "the delay before a failed login is answered"),
	L(auth_listen, "unix:$run_directory/auth-client:0660", "auth-client sockets: unix:PATH[:MODE[:USER[:GROUP]]] or inet:HOST:PORT"),
	L(auth_mechanisms, "plain login", "the SASL mechanisms authd offers"),
	L(auth_userdb_listen, "unix:$run_directory/auth-userdb:0600", "auth-userdb sockets, same syntax as auth_listen"),
	S(auth_username_chars, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@", "the characters allowed in login names (empty: any)"),
	S(auth_username_format, "%Lu", "how a login name is rewritten before lookups"),
	D(bounce_queue_lifetime, "5d", 'd', 0, 0, "how long a bounce may stay in the queue"),
	B(broken_sasl_auth_clients, "no", "also announce AUTH=mechs for old Outlook clients"),
	F(daemon_directory, LIBEXECDIR "/dirmail", "where the service programs live"),
	I(default_destination_concurrency_limit, "20", 1, 0, "parallel deliveries to one destination"),
	I(default_process_limit, "100", 1, 0, "the most processes of one service"),
	S(default_transport, "smtp", "the transport for remote recipients"),
	D(delay_warning_time, "0h", 'h', 0, 0, "send a delay warning after this long (0: never)"),
	S(dirmail_group, DIRMAIL_USER, "the unprivileged group the services run as"),
	S(dirmail_user, DIRMAIL_USER, "the unprivileged user the services run as"),
	B(disable_plaintext_auth, "yes", "refuse plaintext mechanisms on connections that are neither TLS nor local"),
	B(disable_vrfy_command, "yes", "answer VRFY with 252 without looking the address up"),
	I(first_valid_uid, "500", 0, 0, "the lowest uid a mailbox owner may have"),
	Z(header_size_limit, "102400", 1024, 0, "the largest message header kept, in bytes"),
	S(home_mailbox, "", "mailbox of local users relative to their home (Maildir/ for Maildir)"),
	L(imap_listen, "", "IMAP listeners, e.g. 0.0.0.0:143"),
	L(imaps_listen, "", "IMAP over implicit TLS listeners, e.g. 0.0.0.0:993"),
	I(last_valid_uid, "0", 0, 0, "the highest uid a mailbox owner may have (0: no limit)"),
	S(local_transport, "local:$myhostname", "the transport for mydestination recipients"),
	L(mail_auto_mailboxes, "Drafts, Sent, Trash, Junk", "special-use mailboxes created and subscribed at first login"),
	S(mail_gid, "", "the system group that owns virtual mailboxes"),
	S(mail_location, "maildir:~/Maildir", "where mailboxes live (%u %n %d %h expand)"),
	S(mail_name, "dirmail", "the name the software announces itself with"),
	S(mail_owner, DIRMAIL_USER, "the owner of the queue"),
	F(mail_spool_directory, "/var/mail", "the mbox spool directory of local users"),
	S(mail_uid, "", "the system user that owns virtual mailboxes"),
	S(mailbox_transport, "", "hand local mailbox delivery to this transport (e.g. lmtp:unix:/path)"),
	D(maximal_backoff_time, "4000s", 's', 1, 0, "the longest wait before retrying a deferred message"),
	D(maximal_queue_lifetime, "5d", 'd', 0, 0, "how long a message may stay in the queue before it is returned"),
	Z(message_size_limit, "10240000", 0, 0, "the largest message accepted, in bytes (0: no limit)"),
	D(minimal_backoff_time, "300s", 's', 1, 0, "the shortest wait before retrying a deferred message"),
	L(mydestination, "$myhostname, localhost.$mydomain, localhost", "domains delivered to local system users"),
	S(mydomain, "", "the internet domain of this host (default: $myhostname minus its first label)"),
	S(myhostname, "", "the fully-qualified domain name of this host (default: from gethostname)"),
	C(mynetworks, "127.0.0.0/8 [::1]/128", "trusted client networks (permit_mynetworks)"),
	S(myorigin, "$myhostname", "the domain that locally posted mail appears to come from"),
	P(passdb, "pam:dirmail", "password databases, tried in order: ldap:FILE, pam:SERVICE, passwd-file:PATH"),
	L(pickup_listen, "unix:$run_directory/pickup:0666", "the local socket the sendmail command submits through"),
	L(pop3_listen, "", "POP3 listeners, e.g. 0.0.0.0:110"),
	L(pop3s_listen, "", "POP3 over implicit TLS listeners, e.g. 0.0.0.0:995"),
	L(protocols, "imap pop3", "the mail access protocols served"),
	F(queue_directory, LOCALSTATEDIR "/spool/dirmail", "the queue directory"),
	Z(queue_minfree, "0", 0, 0, "free space the queue file system must keep, in bytes (0: twice message_size_limit)"),
	L(relay_domains, "", "domains this host relays mail to"),
	T(relay_recipient_maps, "", "valid recipients in relay_domains"),
	S(relayhost, "", "the next-hop host for non-local mail, e.g. [mail.example.com]:587"),
	F(run_directory, RUNSTATEDIR "/dirmail", "sockets and the pid file"),
	D(service_throttle_time, "60s", 's', 1, 0, "the longest wait before a service that keeps failing is restarted"),
	B(smtp_sasl_auth_enable, "no", "authenticate to the relay host"),
	T(smtp_sasl_password_maps, "", "tables of nexthop to username:password"),
	F(smtp_tls_CAfile, "", "CA certificates that verify remote SMTP servers"),
	E(smtp_tls_security_level, "may", "none|may|encrypt|verify|secure", "TLS for outgoing SMTP"),
	S(smtpd_banner, "$myhostname ESMTP $mail_name", "the text after 220 in the greeting"),
	I(smtpd_client_auth_rate_limit, "0", 0, 0, "AUTH commands one client may send per anvil_rate_time_unit (0: no limit)"),
	I(smtpd_client_connection_rate_limit, "0", 0, 0, "connections one client may make per anvil_rate_time_unit (0: no limit)"),
	C(smtpd_client_event_limit_exceptions, "$mynetworks", "clients exempt from the rate limits"),
	I(smtpd_client_message_rate_limit, "0", 0, 0, "messages one client may send per anvil_rate_time_unit (0: no limit)"),
	L(smtpd_client_restrictions, "", "restrictions applied to the client address"),
	L(smtpd_data_restrictions, "", "restrictions applied to DATA"),
	B(smtpd_delay_reject, "yes", "apply client, HELO and sender restrictions at RCPT TO"),
	E(smtpd_forbid_bare_newline, "yes", "yes|no|normalize", "refuse (yes) or normalize lines that end in a bare LF"),
	I(smtpd_hard_error_limit, "20", 1, 0, "errors after which the client is disconnected"),
	B(smtpd_helo_required, "no", "require HELO or EHLO before MAIL"),
	L(smtpd_helo_restrictions, "", "restrictions applied to the HELO name"),
	L(smtpd_listen, "", "SMTP (MX) listeners, e.g. 0.0.0.0:25 [::]:25"),
	I(smtpd_recipient_limit, "1000", 1, 0, "the most recipients one message may have"),
	L(smtpd_recipient_restrictions, "", "restrictions applied to RCPT TO"),
	L(smtpd_relay_restrictions, "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination", "relay control applied to RCPT TO, before smtpd_recipient_restrictions"),
	B(smtpd_sasl_auth_enable, "no", "offer SMTP AUTH on port 25"),
	S(smtpd_sasl_path, "$run_directory/auth-client", "the auth socket: a path, unix:PATH or inet:HOST:PORT"),
	L(smtpd_sasl_security_options, "noanonymous", "SASL mechanism restrictions without TLS (noanonymous, noplaintext)"),
	L(smtpd_sasl_tls_security_options, "$smtpd_sasl_security_options", "SASL mechanism restrictions with TLS"),
	E(smtpd_sasl_type, "dovecot", "dovecot", "the SASL implementation; dovecot is the Dovecot auth protocol"),
	T(smtpd_sender_login_maps, "", "which SASL logins may use which sender addresses"),
	L(smtpd_sender_restrictions, "", "restrictions applied to MAIL FROM"),
	I(smtpd_soft_error_limit, "10", 1, 0, "errors after which each reply is delayed by one second"),
	D(smtpd_timeout, "300s", 's', 1, 0, "idle time before an SMTP client is disconnected"),
	B(smtpd_tls_auth_only, "yes", "offer AUTH only after STARTTLS"),
	F(smtpd_tls_cert_file, "", "the SMTP server's certificate chain (PEM)"),
	F(smtpd_tls_key_file, "$smtpd_tls_cert_file", "the SMTP server's private key (PEM)"),
	E(smtpd_tls_security_level, "may", "none|may|encrypt", "TLS for SMTP clients: none, may (STARTTLS offered), encrypt (required)"),
	L(smtps_listen, "", "SMTP over implicit TLS listeners, e.g. 0.0.0.0:465"),
	E(ssl, "yes", "yes|no|required", "TLS for IMAP and POP3: no, yes (STARTTLS offered), required"),
	F(ssl_ca, "", "CA certificates for client certificates"),
	F(ssl_cert, "$smtpd_tls_cert_file", "the IMAP/POP3 certificate chain (PEM); <path accepted"),
	F(ssl_dh, "", "Diffie-Hellman parameters (PEM)"),
	F(ssl_key, "$smtpd_tls_key_file", "the IMAP/POP3 private key (PEM); <path accepted"),
	E(ssl_min_protocol, "TLSv1.2", "TLSv1.2|TLSv1.3", "the oldest TLS version accepted"),
	L(submission_listen, "", "submission listeners (AUTH required, STARTTLS before AUTH), e.g. 0.0.0.0:587"),
	E(syslog_facility, "mail", "mail|daemon|local0|local1|local2|local3|local4|local5|local6|local7", "the syslog facility"),
	T(transport_maps, "", "tables mapping recipients or domains to a transport:nexthop"),
	P(userdb, "passwd", "user databases, tried in order: ldap:FILE, passwd, passwd-file:PATH, static:ARGS"),
	S(userdb_override_fields, "", "userdb fields that replace what the userdb returns, e.g. uid=vmail gid=vmail"),
	L(virtual_alias_domains, "$virtual_alias_maps", "domains whose every address is an alias"),
	T(virtual_alias_maps, "", "address rewriting tables for all recipients"),
	L(virtual_mailbox_domains, "$virtual_mailbox_maps", "domains whose mailboxes dirmail delivers to"),
	T(virtual_mailbox_maps, "", "tables of valid virtual mailbox recipients; the value is the mailbox owner's login"),
	S(virtual_transport, "virtual", "the transport for virtual_mailbox_domains"),
};

const size_t dirmail_params_count =
    sizeof(dirmail_params) / sizeof(dirmail_params[0]);
