# Installs tenantsync: `make install` / `make uninstall`.
#
#   make install                     # into /usr/local (units in /usr/local/lib/systemd/system)
#   make install PREFIX=/usr         # distribution layout
#   make install DESTDIR=/tmp/pkg    # staged: nothing is run against the live system
#
# Binaries come from `swift build -c $(CONFIGURATION)`; an existing build is
# reused, `make build` forces a rebuild. With an empty DESTDIR the install also
# creates the tenantsync user (systemd-sysusers), rebuilds the journal catalog
# (journalctl --update-catalog) and reloads systemd when it runs.

PREFIX        ?= /usr/local
BINDIR        ?= $(PREFIX)/bin
SYSTEMDDIR    ?= $(PREFIX)/lib/systemd
UNITDIR       ?= $(SYSTEMDDIR)/system
CATALOGDIR    ?= $(SYSTEMDDIR)/catalog
SYSUSERSDIR   ?= $(PREFIX)/lib/sysusers.d
DOCDIR        ?= $(PREFIX)/share/doc/tenantsync
SYSCONFDIR    ?= /etc
CONFDIR       := $(SYSCONFDIR)/tenantsync
DESTDIR       ?=
CONFIGURATION ?= release
SWIFT         ?= swift
BUILDDIR      ?= .build/$(CONFIGURATION)

PROGRAMS := tenantsyncd tenantsyncctl tenantsync-emulator
BINARIES := $(addprefix $(BUILDDIR)/,$(PROGRAMS))
UNITS    := tenantsyncd.service tenantsyncd.socket

# The units in systemd/ name the /usr/local paths; rewrite them for this layout.
SUBSTITUTE = sed -e 's|/usr/local/bin/|$(BINDIR)/|g' \
                 -e 's|/usr/local/share/doc/tenantsync|$(DOCDIR)|g' \
                 -e 's|/etc/tenantsync/|$(CONFDIR)/|g'

.PHONY: all build install uninstall

all: $(BINARIES)

# Reuse a finished build; build only what is missing.
$(BUILDDIR)/%:
	$(SWIFT) build -c $(CONFIGURATION) --product $*

build:
	$(SWIFT) build -c $(CONFIGURATION) $(addprefix --product ,$(PROGRAMS))

install: $(BINARIES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) \
	        $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR)
	install -m 0755 $(BINARIES) $(DESTDIR)$(BINDIR)/
	for unit in $(UNITS); do \
	    $(SUBSTITUTE) systemd/$$unit > $(DESTDIR)$(UNITDIR)/$$unit.tmp && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$unit.tmp && \
	    mv $(DESTDIR)$(UNITDIR)/$$unit.tmp $(DESTDIR)$(UNITDIR)/$$unit || exit 1; \
	done
	install -m 0644 systemd/tenantsync.sysusers $(DESTDIR)$(SYSUSERSDIR)/tenantsync.conf
	install -m 0644 systemd/tenantsync.catalog $(DESTDIR)$(CATALOGDIR)/tenantsync.catalog
	install -m 0644 docs/running-under-systemd.md $(DESTDIR)$(DOCDIR)/
	install -m 0644 systemd/tenantsyncd.toml $(DESTDIR)$(DOCDIR)/tenantsyncd.toml.example
	# The configuration is the operator's: installed only when absent.
	test -e $(DESTDIR)$(CONFDIR)/tenantsyncd.toml || \
	    install -m 0644 systemd/tenantsyncd.toml $(DESTDIR)$(CONFDIR)/tenantsyncd.toml
ifeq ($(DESTDIR),)
	systemd-sysusers $(SYSUSERSDIR)/tenantsync.conf
	journalctl --update-catalog
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
endif

uninstall:
	-if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    systemctl disable --now tenantsyncd.socket tenantsyncd.service; fi
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGRAMS))
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))
	rm -f $(DESTDIR)$(SYSUSERSDIR)/tenantsync.conf $(DESTDIR)$(CATALOGDIR)/tenantsync.catalog
	rm -f $(DESTDIR)$(DOCDIR)/running-under-systemd.md $(DESTDIR)$(DOCDIR)/tenantsyncd.toml.example
	-rmdir $(DESTDIR)$(DOCDIR)
	# An unchanged default configuration goes; an edited one stays.
	if cmp -s systemd/tenantsyncd.toml $(DESTDIR)$(CONFDIR)/tenantsyncd.toml; then \
	    rm -f $(DESTDIR)$(CONFDIR)/tenantsyncd.toml; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; fi
ifeq ($(DESTDIR),)
	journalctl --update-catalog
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
endif
	@echo "Kept: the tenantsync user, /var/lib/tenantsync (accounts and tokens) and /etc/credstore."
