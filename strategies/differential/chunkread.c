#include "differential/chunkread.h"

#include <errno.h>
#include <unistd.h>

int chunk_read(int fd, const char *what, uint64_t off, size_t len, size_t *got, unsigned char *buf,
	       struct errbuf *err)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, buf + *got, len - *got, (off_t) (off + *got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errbuf_set_errno(err, errno, "cannot read \"%s\"", what);
		if (n == 0)
			break;
		*got += (size_t) n;
	}
	return 0;
}
