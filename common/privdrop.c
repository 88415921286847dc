#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <unistd.h>

int become_cluster_owner(struct errbuf *err)
{
	const char *name = getenv("SEGRECOVER_OS_USER");
	struct passwd *pw;

	if (geteuid() != 0)
		return 0;
	if (name == NULL || name[0] == '\0')
		name = DEFAULT_OS_USER;
	pw = getpwnam(name);
	if (pw == NULL)
		return errbuf_set(err, "running as root, and the cluster owner \"%s\" does not exist: "
				       "PostgreSQL refuses to run as root. Run scripts/install-deps "
				       "(it creates %s) or set SEGRECOVER_OS_USER",
				  name, name);
	if (pw->pw_uid == 0)
		return errbuf_set(err, "SEGRECOVER_OS_USER names root; PostgreSQL refuses to run as "
				       "root");
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		return errbuf_set_errno(err, errno, "cannot switch from root to \"%s\"", name);
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	return 0;
}
