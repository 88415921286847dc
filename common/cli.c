#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errbuf.h"
#include "exec.h"
#include "privdrop.h"
#include "xalloc.h"

int cli_start(const char *program, int argc, char **argv, const char *logdir,
	      enum log_verbosity verbosity)
{
	struct errbuf err;
	char *args;

	errbuf_clear(&err);
	if (become_cluster_owner(&err) != 0) {
		fprintf(stderr, "%s: error: %s\n", program, err.msg);
		return EXIT_USAGE;
	}
	if (log_init(program, logdir, verbosity, &err) != 0) {
		if (logdir != NULL) {
			fprintf(stderr, "%s: error: %s\n", program, err.msg);
			return EXIT_USAGE;
		}
		fprintf(stderr, "%s: warning: %s; logging to the console only\n", program, err.msg);
	}
	args = exec_describe((const char *const *) argv + 1);
	(void) argc;
	log_info("Starting %s with args: %s", program, args);
	free(args);
	return EXIT_OK;
}

bool cli_parse_int(const char *program, const char *option, const char *text, long min, long max,
		   long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "%s: error: invalid value \"%s\" for %s: expected an integer from %ld to "
				"%ld\n",
			program, text, option, min, max);
		return false;
	}
	*out = v;
	return true;
}

int cli_usage_error(const char *program, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: error: ", program);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry \"%s --help\" for more information.\n", program);
	return EXIT_USAGE;
}

bool cli_confirm(const char *question)
{
	char answer[64];

	printf("%s Yy|Nn (default=N):\n> ", question);
	fflush(stdout);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		return false;
	return answer[0] == 'y' || answer[0] == 'Y';
}

bool cli_getopt_help_or_error(int c, char **argv, char *msg, size_t len)
{
	if (c == '?' && optopt == '?')
		return true;
	if (c == ':')
		snprintf(msg, len, "option %s requires an argument", argv[optind - 1]);
	else if (optopt)
		snprintf(msg, len, "no such option: -%c", optopt);
	else
		snprintf(msg, len, "no such option: %s", argv[optind - 1]);
	return false;
}
