# sendmail(1), with mailq and newaliases as links to it: the program
# looks at the name it was run as.
sbin_PROGRAMS += src/tools/sendmail
src_tools_sendmail_SOURCES = \
	src/tools/sendmail.c src/tools/sendmail.h \
	src/tools/sendmail_submit.c \
	src/tools/sendmail_addr.c \
	src/tools/ctl_queue.c src/tools/ctl.h
src_tools_sendmail_LDADD = src/queue/libqueue.a $(DM_LIBS) $(DM_EXTLIBS)
src_tools_sendmail_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)

# showq: the queue listing for users who may not read the queue.
dirmaillibexec_PROGRAMS += src/tools/showq
src_tools_showq_SOURCES = src/tools/showq.c \
	src/tools/ctl_queue.c src/tools/ctl.h
src_tools_showq_LDADD = src/queue/libqueue.a $(DM_LIBS) $(DM_EXTLIBS)
src_tools_showq_LDFLAGS = $(AM_LDFLAGS) $(QUEUE_LDFLAGS)

# mailq and newaliases live in bindir, as on Debian, and point at the one
# program.
install-exec-hook: install-sendmail-links
uninstall-hook: uninstall-sendmail-links
install-sendmail-links:
	$(MKDIR_P) $(DESTDIR)$(bindir)
	for n in mailq newaliases; do \
		rm -f $(DESTDIR)$(bindir)/$$n && \
		ln -s $(sbindir)/sendmail $(DESTDIR)$(bindir)/$$n || exit 1; \
	done
uninstall-sendmail-links:
	rm -f $(DESTDIR)$(bindir)/mailq $(DESTDIR)$(bindir)/newaliases
.PHONY: install-sendmail-links uninstall-sendmail-links
