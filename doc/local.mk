dist_man_MANS = doc/dirmail.cf.5 doc/dirmaild.8 doc/dirmailctl.8 doc/authd.8 \
	doc/smtpd.8 doc/local.8 doc/smtp.8 doc/qmgr.8 doc/sendmail.1 \
	doc/imapd.8 doc/pop3d.8
EXTRA_DIST += doc/dirmail.cf.5.in doc/update-params
