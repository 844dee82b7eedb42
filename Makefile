# Installs tenantsync: `make install` / `make uninstall`.
#
#   make install                     # into /usr/local (units in /usr/local/lib/systemd/system)
#   make install PREFIX=/usr         # distribution layout
#   make install DESTDIR=/tmp/pkg    # staged: nothing is run against the live system
#   make deb                         # tenantsync_VERSION_ARCH.deb (scripts/build-deb.sh)
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
MANDIR        ?= $(PREFIX)/share/man
BASHCOMPDIR   ?= $(PREFIX)/share/bash-completion/completions
# Debian's zsh reads vendor-completions under /usr; upstream zsh reads site-functions under /usr/local.
ZSHCOMPDIR    ?= $(if $(filter /usr,$(PREFIX)),$(PREFIX)/share/zsh/vendor-completions,$(PREFIX)/share/zsh/site-functions)
FISHCOMPDIR   ?= $(PREFIX)/share/fish/vendor_completions.d
SYSCONFDIR    ?= /etc
CONFDIR       := $(SYSCONFDIR)/tenantsync
DESTDIR       ?=
CONFIGURATION ?= release
SWIFT         ?= swift
BUILDDIR      ?= .build/$(CONFIGURATION)
# Man pages and completions, generated from the built binaries.
GENDIR        ?= $(BUILDDIR)/tenantsync-generated
# The man pages' footer date: the last commit's, so that a rebuild gives the same pages.
MANDATE       ?= $(shell git log -1 --format=%cs 2>/dev/null || date -u +%F)

PROGRAMS := tenantsyncd tenantsyncctl tenantsync-emulator
BINARIES := $(addprefix $(BUILDDIR)/,$(PROGRAMS))
UNITS    := tenantsyncd.service tenantsyncd.socket
MANPAGES := man8/tenantsyncd.8.gz man8/tenantsyncctl.8.gz man5/tenantsyncd.toml.5.gz

# The units in systemd/ name the /usr/local paths; rewrite them for this layout.
SUBSTITUTE = sed -e 's|/usr/local/bin/|$(BINDIR)/|g' \
                 -e 's|/usr/local/share/doc/tenantsync|$(DOCDIR)|g' \
                 -e 's|/etc/tenantsync/|$(CONFDIR)/|g'

.PHONY: all build install uninstall man completions deb

all: $(BINARIES) man completions

# Reuse a finished build; build only what is missing.
$(BUILDDIR)/%:
	$(SWIFT) build -c $(CONFIGURATION) --product $*

build:
	$(SWIFT) build -c $(CONFIGURATION) $(addprefix --product ,$(PROGRAMS) tenantsync-manpages)

# tenantsyncd(8), tenantsyncctl(8), tenantsyncd.toml(5): from the argument parsers and the
# configuration reference (Sources/TenantSyncConfig/ConfigurationReference.swift).
man: $(BUILDDIR)/tenantsyncd $(BUILDDIR)/tenantsyncctl $(BUILDDIR)/tenantsync-manpages
	rm -rf $(GENDIR)/man && mkdir -p $(GENDIR)/man/man5 $(GENDIR)/man/man8
	$(BUILDDIR)/tenantsync-manpages --bin-dir $(BUILDDIR) --output $(GENDIR)/man --date $(MANDATE)
	mv $(GENDIR)/man/tenantsyncd.toml.5 $(GENDIR)/man/man5/ && mv $(GENDIR)/man/*.8 $(GENDIR)/man/man8/
	gzip -9n $(GENDIR)/man/man5/*.5 $(GENDIR)/man/man8/*.8

# bash, zsh and fish completions from tenantsyncctl's parser (account ids and tenants
# are completed by asking the daemon).
completions: $(BUILDDIR)/tenantsyncctl
	mkdir -p $(GENDIR)/completions
	# bash-completion sources the file: no #! line (lintian: bash-completion-with-hashbang).
	$(BUILDDIR)/tenantsyncctl --generate-completion-script bash | sed '1{/^#!/d}' > $(GENDIR)/completions/tenantsyncctl
	$(BUILDDIR)/tenantsyncctl --generate-completion-script zsh > $(GENDIR)/completions/_tenantsyncctl
	$(BUILDDIR)/tenantsyncctl --generate-completion-script fish > $(GENDIR)/completions/tenantsyncctl.fish

install: $(BINARIES) man completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CATALOGDIR) \
	        $(DESTDIR)$(SYSUSERSDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(CONFDIR) \
	        $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	        $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 $(BINARIES) $(DESTDIR)$(BINDIR)/
	for page in $(MANPAGES); do install -m 0644 $(GENDIR)/man/$$page $(DESTDIR)$(MANDIR)/$$page || exit 1; done
	install -m 0644 $(GENDIR)/completions/tenantsyncctl $(DESTDIR)$(BASHCOMPDIR)/tenantsyncctl
	install -m 0644 $(GENDIR)/completions/_tenantsyncctl $(DESTDIR)$(ZSHCOMPDIR)/_tenantsyncctl
	install -m 0644 $(GENDIR)/completions/tenantsyncctl.fish $(DESTDIR)$(FISHCOMPDIR)/tenantsyncctl.fish
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
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/,$(MANPAGES))
	rm -f $(DESTDIR)$(BASHCOMPDIR)/tenantsyncctl $(DESTDIR)$(ZSHCOMPDIR)/_tenantsyncctl $(DESTDIR)$(FISHCOMPDIR)/tenantsyncctl.fish
	-rmdir $(DESTDIR)$(DOCDIR)
	# An unchanged default configuration goes; an edited one stays.
	if cmp -s systemd/tenantsyncd.toml $(DESTDIR)$(CONFDIR)/tenantsyncd.toml; then \
	    rm -f $(DESTDIR)$(CONFDIR)/tenantsyncd.toml; rmdir $(DESTDIR)$(CONFDIR) 2>/dev/null || true; fi
ifeq ($(DESTDIR),)
	journalctl --update-catalog
	if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
endif
	@echo "Kept: the tenantsync user, /var/lib/tenantsync (accounts and tokens) and /etc/credstore."

# The Debian package, from the binaries in $(BUILDDIR) (see scripts/build-deb.sh):
#   make deb                                   # release build, version from Version.swift
#   make deb CONFIGURATION=debug DEB_VERSION=0.1.1-1 DEB_OUTPUT=/tmp
DEB_VERSION ?=
DEB_OUTPUT  ?= .
DEB_COMPRESSION ?= xz
deb: $(BUILDDIR)/tenantsyncd $(BUILDDIR)/tenantsyncctl $(BUILDDIR)/tenantsync-manpages
	BUILDDIR=$(BUILDDIR) CONFIGURATION=$(CONFIGURATION) VERSION=$(DEB_VERSION) OUTPUT=$(DEB_OUTPUT) COMPRESSION=$(DEB_COMPRESSION) \
	    bash scripts/build-deb.sh
