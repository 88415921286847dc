# segrecover: one build for the library (common/ + strategies/), the commands (recover/), the tests.
#   make                 build everything into build/
#   make check           install what is missing, build, run every unit and integration test
#   make demo            the main job on the embedded demo cluster
#   make install PREFIX=/usr/local DESTDIR=
#   make check SANITIZE=1   the same under ASan/UBSan

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
BUILD   ?= build

PKG_LIBS := libpq libarchive
RSYNC_CFLAGS := $(shell pkg-config --cflags librsync 2>/dev/null)
RSYNC_LIBS   := $(shell pkg-config --libs librsync 2>/dev/null || echo -lrsync)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral -Wmissing-prototypes -Wstrict-prototypes
CFLAGS  ?= -O2 -g
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif
ALL_CFLAGS  = -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -Icommon -Istrategies -Irecover \
              $(shell pkg-config --cflags $(PKG_LIBS) 2>/dev/null) $(RSYNC_CFLAGS) -MMD -MP
LIBS        = $(shell pkg-config --libs $(PKG_LIBS) 2>/dev/null || echo -lpq -larchive) $(RSYNC_LIBS) -ldl -lpthread
CHECK_CFLAGS = $(shell pkg-config --cflags check 2>/dev/null)
CHECK_LIBS   = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck -lsubunit -lm -lrt)

COMMANDS := gpstate gpfts gprecoverseg gpsegrecovery gpinitstandby gpactivatestandby

# recover/<command>/main.c is a command; every other module under recover/ (the command's own
# and the folders several share: driver/, agent/, proto/) goes into the driver library.
LIB_SRC  := $(wildcard common/*.c) $(wildcard strategies/*.c) $(wildcard strategies/*/*.c)
CMD_SRC  := $(addprefix recover/,$(addsuffix /main.c,$(COMMANDS)))
DRV_SRC  := $(filter-out %/main.c,$(wildcard recover/*/*.c))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
PLUGIN_SRC := $(wildcard tests/plugins/*.c)

LIB      := $(BUILD)/libsegrecover.a
DRVLIB   := $(BUILD)/libsegrecover-driver.a
BINS     := $(addprefix $(BUILD)/bin/,$(COMMANDS))
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRC))
PLUGINS  := $(patsubst tests/plugins/%.c,$(BUILD)/tests/plugins/%.so,$(PLUGIN_SRC))
MANPAGES := $(wildcard man/*.1)
MANPAGES7 := $(wildcard man/*.7)

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

.PHONY: all check unit integration demo install uninstall clean deps bench
all: $(BINS) $(UNITS) $(PLUGINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -c -o $@ $<

# The pg_control layout test reads the server's own headers (postgresql-server-dev-15).
PG_SERVER_INC := $(shell /usr/lib/postgresql/15/bin/pg_config --includedir-server 2>/dev/null || echo /usr/include/postgresql/15/server)
$(BUILD)/obj/tests/unit/test_pgcontrol_layout.o: ALL_CFLAGS += -isystem $(PG_SERVER_INC)

$(BUILD)/obj/tests/plugins/%.o: tests/plugins/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -fPIC -c -o $@ $<

$(LIB): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(DRVLIB): $(call obj,$(DRV_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/obj/recover/%/main.o $(DRVLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(DRVLIB) $(LIB) $(LIBS)

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(DRVLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(DRVLIB) $(LIB) $(LIBS) $(CHECK_LIBS)

$(BUILD)/tests/plugins/%.so: $(BUILD)/obj/tests/plugins/%.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -shared -o $@ $<

# Every test, unit and integration, ends with one line "N passed, N failed".
check: deps
	$(MAKE) all
	tests/lint
	tests/run

unit: all
	tests/run --unit-only

integration: all
	tests/run --integration-only

bench: deps
	$(MAKE) all
	tests/bench/run

demo: deps
	$(MAKE) all
	scripts/demo

deps:
	scripts/install-deps

COMPLETIONS := $(DESTDIR)$(PREFIX)/share/bash-completion/completions

install: $(BINS)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man7 $(COMPLETIONS)
	install -m 0755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 scripts/bash-completion/segrecover $(COMPLETIONS)/segrecover
	for c in $(COMMANDS); do ln -sf segrecover $(COMPLETIONS)/$$c; done
	$(if $(MANPAGES),install -m 0644 $(MANPAGES) $(DESTDIR)$(PREFIX)/share/man/man1/)
	$(if $(MANPAGES7),install -m 0644 $(MANPAGES7) $(DESTDIR)$(PREFIX)/share/man/man7/)

uninstall:
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/bin/,$(COMMANDS))
	rm -f $(COMPLETIONS)/segrecover $(addprefix $(COMPLETIONS)/,$(COMMANDS))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man1/,$(notdir $(MANPAGES)))
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/share/man/man7/,$(notdir $(MANPAGES7)))

clean:
	rm -rf $(BUILD)

.SECONDARY:
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
