/* Blocking I/O on file descriptors that does the whole job. */

#include "config.h"

#include <errno.h>
#include <unistd.h>

#include "lib/fdio.h"

int
fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
