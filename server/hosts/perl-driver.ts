/**
 * The persistent shell's faster driver, for devices with perl (Debian's perl-base is essential, so most have it).
 * It does what the `sh` driver's FIFOs, `cat`s and `setsid` do, in one process: per command it forks once, the
 * child calls setsid() and execs the login shell, and the driver copies the child's stdout and stderr pipes to its
 * own until both reach EOF (every holder closed them, as an exec channel waits for), then reaps the child and writes
 * the same trailers as the `sh` driver. That leaves the login shell's start as the only exec per command.
 *
 * Protocol on stdin, after the `sh` set-up text (skipped up to its `#END-SETUP` line): `<byte length>\n<command>`.
 */

/** The script, run as `perl -e SCRIPT NONCE`. */
export const PERL_DRIVER = String.raw`
use strict; use warnings; use POSIX ();
my $nonce = $ARGV[0];
binmode $_ for \*STDIN, \*STDOUT, \*STDERR;
while (defined(my $line = <STDIN>)) { last if $line eq "#END-SETUP\n"; }
delete $ENV{SHLVL};
my $shell = $ENV{SHELL} || '/bin/sh';
(my $name = $shell) =~ s{.*/}{};
sub put { my ($fh, $bytes) = @_; while (length $bytes) { my $n = syswrite($fh, $bytes); exit 0 unless $n; substr($bytes, 0, $n) = ''; } }
put(\*STDERR, "\x1ePID$$ perl\n"); put(\*STDOUT, "\x1eREADY$nonce\n"); put(\*STDERR, "\x1eREADY$nonce\n");
while (defined(my $length = <STDIN>)) {
  chomp $length; my $command = '';
  while (length($command) < $length) { read(STDIN, $command, $length - length($command), length($command)) or exit 0; }
  pipe(my $outR, my $outW) or die "pipe: $!"; pipe(my $errR, my $errW) or die "pipe: $!";
  my $pid = fork;
  die "fork: $!" unless defined $pid;
  if ($pid == 0) {
    POSIX::setsid(); open(STDIN, '<', '/dev/null');
    POSIX::dup2(fileno($outW), 1); POSIX::dup2(fileno($errW), 2);
    exec { $shell } $name, '-c', $command; POSIX::_exit(127);
  }
  close $outW; close $errW;
  my %to = (fileno($outR) => [$outR, \*STDOUT], fileno($errR) => [$errR, \*STDERR]);
  while (%to) {
    my $bits = ''; vec($bits, $_, 1) = 1 for keys %to;
    next if select(my $ready = $bits, undef, undef, undef) < 0;
    for my $fd (keys %to) {
      next unless vec($ready, $fd, 1);
      my $n = sysread($to{$fd}[0], my $chunk, 65536);
      if ($n) { put($to{$fd}[1], $chunk); } elsif (defined $n) { close $to{$fd}[0]; delete $to{$fd}; }
    }
  }
  waitpid($pid, 0);
  my $status = POSIX::WIFSIGNALED($?) ? 128 + POSIX::WTERMSIG($?) : POSIX::WEXITSTATUS($?);
  put(\*STDOUT, "\x1e$nonce\n"); put(\*STDERR, sprintf("\x1e%s%03d\n", $nonce, $status));
}
`;
