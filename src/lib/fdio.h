#ifndef DIRMAIL_LIB_FDIO_H
#define DIRMAIL_LIB_FDIO_H

/* Blocking I/O on file descriptors that does the whole job. */

#include <stddef.h>

/* Write all LEN bytes of DATA to FD, retrying after EINTR and short
   writes.  0, or -1 with errno. */
int fd_write_all(int fd, const void *data, size_t len);

#endif
