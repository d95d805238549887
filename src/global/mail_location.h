#ifndef DIRMAIL_GLOBAL_MAIL_LOCATION_H
#define DIRMAIL_GLOBAL_MAIL_LOCATION_H

/*
 * Where a user's mail lives: Dovecot's mail_location (or the userdb
 * "mail" field) expanded for one user.  Shared by the local delivery
 * agent and the IMAP/POP3 mail processes, so that both open the same
 * Maildir: both pass auth_default_realm as DOMAIN, so that a login
 * without a domain names one mailbox whichever address the mail came to.
 */

/*
 * The Maildir path of LOCATION (mail_location or the userdb "mail"
 * field: "maildir:PATH[:options]", or a bare PATH), with %u = LOGIN, %n =
 * its local part, %d = its domain (DOMAIN when LOGIN has none), %h and a
 * leading "~" = HOME, %% = %, and %Lu etc. for lower case.  Returns 0 with
 * *PATH_R (allocated), or -1 with *ERROR_R (static) for another format
 * (mbox:), an unknown %-variable, "~" or %h without a home, or a result
 * that is not an absolute path.
 */
int mail_location_expand(const char *location, const char *login,
    const char *domain, const char *home, char **path_r,
    const char **error_r);

#endif
