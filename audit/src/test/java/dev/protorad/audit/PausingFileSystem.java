package dev.protorad.audit;

import static java.util.concurrent.TimeUnit.SECONDS;

import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.StandardOpenOption;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The default file system seen through a wrapper that can hold one thread at a file operation: a
 * store opened on {@link #wrap}ped paths does its real I/O, and a test pauses a reader at the point
 * it chooses, then lets it go. It also records the files deleted, so a test can tell what a
 * concurrent operation did while the reader was held.
 */
final class PausingFileSystem extends FileSystem {

  /** Where a thread can be held. */
  enum Point {
    /** Its first directory listing or read-only open: nothing read yet. */
    FIRST_READ,
    /** Its first read-only open of a segment file: the directory was listed, no segment read. */
    SEGMENT_OPEN
  }

  private final FileSystem real;
  private final Provider provider = new Provider();
  private final AtomicReference<Pause> pause = new AtomicReference<>();
  private final List<String> deleted = new CopyOnWriteArrayList<>();

  PausingFileSystem(FileSystem real) {
    this.real = real;
  }

  /** The same path, on this file system. */
  Path wrap(Path path) {
    return new WrappedPath(this, path);
  }

  /**
   * Holds the first thread named {@code threadName} that reaches {@code point}, once, until {@link
   * #release}; returns a latch that opens when it is held.
   */
  CountDownLatch holdAt(Point point, String threadName) {
    Pause p = new Pause(point, threadName);
    pause.set(p);
    return p.held;
  }

  /** Lets the held thread go on (or the next one, if none is held yet, pass). */
  void release() {
    Pause p = pause.getAndSet(null);
    if (p != null) {
      p.released.countDown();
    }
  }

  /** File names deleted so far. */
  List<String> deleted() {
    return List.copyOf(deleted);
  }

  private void reached(Point point, Path path) {
    Pause p = pause.get();
    if (p == null
        || p.point != point
        || !Thread.currentThread().getName().equals(p.threadName)
        || (point == Point.SEGMENT_OPEN
            && !String.valueOf(path.getFileName()).startsWith("segment-"))
        || p.held.getCount() == 0) {
      return;
    }
    p.held.countDown();
    try {
      p.released.await(30, SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void opened(Path path, Set<? extends OpenOption> options) {
    boolean readOnly =
        options.stream().allMatch(o -> o == StandardOpenOption.READ || o instanceof LinkOption);
    if (readOnly) {
      reached(Point.FIRST_READ, path);
      reached(Point.SEGMENT_OPEN, path);
    }
  }

  private static Path unwrap(Path path) {
    return path instanceof WrappedPath w ? w.real : path;
  }

  private record Pause(
      Point point, String threadName, CountDownLatch held, CountDownLatch released) {
    Pause(Point point, String threadName) {
      this(point, threadName, new CountDownLatch(1), new CountDownLatch(1));
    }
  }

  @Override
  public FileSystemProvider provider() {
    return provider;
  }

  @Override
  public void close() {
    throw new UnsupportedOperationException("the default file system cannot be closed");
  }

  @Override
  public boolean isOpen() {
    return true;
  }

  @Override
  public boolean isReadOnly() {
    return false;
  }

  @Override
  public String getSeparator() {
    return real.getSeparator();
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    List<Path> roots = new ArrayList<>();
    real.getRootDirectories().forEach(r -> roots.add(wrap(r)));
    return roots;
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return real.getFileStores();
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return real.supportedFileAttributeViews();
  }

  @Override
  public Path getPath(String first, String... more) {
    return wrap(real.getPath(first, more));
  }

  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher m = real.getPathMatcher(syntaxAndPattern);
    return p -> m.matches(unwrap(p));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    return real.getUserPrincipalLookupService();
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("no watch service");
  }

  /** A path of the real file system that answers to this one. */
  private static final class WrappedPath implements Path {
    private final PausingFileSystem fs;
    private final Path real;

    WrappedPath(PausingFileSystem fs, Path real) {
      this.fs = fs;
      this.real = real;
    }

    private Path wrap(Path p) {
      return new WrappedPath(fs, p);
    }

    private Path wrapOrNull(Path p) {
      return p == null ? null : wrap(p);
    }

    @Override
    public FileSystem getFileSystem() {
      return fs;
    }

    @Override
    public boolean isAbsolute() {
      return real.isAbsolute();
    }

    @Override
    public Path getRoot() {
      return wrapOrNull(real.getRoot());
    }

    @Override
    public Path getFileName() {
      return wrapOrNull(real.getFileName());
    }

    @Override
    public Path getParent() {
      return wrapOrNull(real.getParent());
    }

    @Override
    public int getNameCount() {
      return real.getNameCount();
    }

    @Override
    public Path getName(int index) {
      return wrap(real.getName(index));
    }

    @Override
    public Path subpath(int beginIndex, int endIndex) {
      return wrap(real.subpath(beginIndex, endIndex));
    }

    @Override
    public boolean startsWith(Path other) {
      return real.startsWith(unwrap(other));
    }

    @Override
    public boolean endsWith(Path other) {
      return real.endsWith(unwrap(other));
    }

    @Override
    public Path normalize() {
      return wrap(real.normalize());
    }

    @Override
    public Path resolve(Path other) {
      return wrap(real.resolve(unwrap(other)));
    }

    @Override
    public Path relativize(Path other) {
      return wrap(real.relativize(unwrap(other)));
    }

    @Override
    public URI toUri() {
      return real.toUri();
    }

    @Override
    public Path toAbsolutePath() {
      return wrap(real.toAbsolutePath());
    }

    @Override
    public Path toRealPath(LinkOption... options) throws IOException {
      return wrap(real.toRealPath(options));
    }

    @Override
    public File toFile() {
      return real.toFile();
    }

    @Override
    public WatchKey register(
        WatchService watcher, WatchEvent.Kind<?>[] events, WatchEvent.Modifier... modifiers) {
      throw new UnsupportedOperationException("no watch service");
    }

    @Override
    public Iterator<Path> iterator() {
      List<Path> names = new ArrayList<>();
      real.forEach(n -> names.add(wrap(n)));
      return names.iterator();
    }

    @Override
    public int compareTo(Path other) {
      return real.compareTo(unwrap(other));
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof WrappedPath w && real.equals(w.real);
    }

    @Override
    public int hashCode() {
      return real.hashCode();
    }

    @Override
    public String toString() {
      return real.toString();
    }
  }

  /** Passes every operation to the real provider, noting reads and deletions on the way. */
  private final class Provider extends FileSystemProvider {
    private FileSystemProvider real() {
      return PausingFileSystem.this.real.provider();
    }

    @Override
    public String getScheme() {
      return "pausing";
    }

    @Override
    public FileSystem newFileSystem(URI uri, Map<String, ?> env) {
      throw new UnsupportedOperationException("made by the test");
    }

    @Override
    public FileSystem getFileSystem(URI uri) {
      return PausingFileSystem.this;
    }

    @Override
    public Path getPath(URI uri) {
      return wrap(real().getPath(uri));
    }

    @Override
    public FileChannel newFileChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      opened(path, options);
      return real().newFileChannel(unwrap(path), options, attrs);
    }

    @Override
    public SeekableByteChannel newByteChannel(
        Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
        throws IOException {
      opened(path, options);
      return real().newByteChannel(unwrap(path), options, attrs);
    }

    @Override
    public DirectoryStream<Path> newDirectoryStream(
        Path dir, DirectoryStream.Filter<? super Path> filter) throws IOException {
      reached(Point.FIRST_READ, dir);
      DirectoryStream<Path> listing =
          real().newDirectoryStream(unwrap(dir), p -> filter.accept(wrap(p)));
      return new DirectoryStream<>() {
        @Override
        public Iterator<Path> iterator() {
          Iterator<Path> it = listing.iterator();
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return it.hasNext();
            }

            @Override
            public Path next() {
              return wrap(it.next());
            }
          };
        }

        @Override
        public void close() throws IOException {
          listing.close();
        }
      };
    }

    @Override
    public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
      real().createDirectory(unwrap(dir), attrs);
    }

    @Override
    public void delete(Path path) throws IOException {
      real().delete(unwrap(path));
      deleted.add(String.valueOf(path.getFileName()));
    }

    @Override
    public void copy(Path source, Path target, CopyOption... options) throws IOException {
      real().copy(unwrap(source), unwrap(target), options);
    }

    @Override
    public void move(Path source, Path target, CopyOption... options) throws IOException {
      real().move(unwrap(source), unwrap(target), options);
    }

    @Override
    public boolean isSameFile(Path path, Path path2) throws IOException {
      return real().isSameFile(unwrap(path), unwrap(path2));
    }

    @Override
    public boolean isHidden(Path path) throws IOException {
      return real().isHidden(unwrap(path));
    }

    @Override
    public FileStore getFileStore(Path path) throws IOException {
      return real().getFileStore(unwrap(path));
    }

    @Override
    public void checkAccess(Path path, AccessMode... modes) throws IOException {
      real().checkAccess(unwrap(path), modes);
    }

    @Override
    public <V extends FileAttributeView> V getFileAttributeView(
        Path path, Class<V> type, LinkOption... options) {
      return real().getFileAttributeView(unwrap(path), type, options);
    }

    @Override
    public <A extends BasicFileAttributes> A readAttributes(
        Path path, Class<A> type, LinkOption... options) throws IOException {
      return real().readAttributes(unwrap(path), type, options);
    }

    @Override
    public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
        throws IOException {
      return real().readAttributes(unwrap(path), attributes, options);
    }

    @Override
    public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
        throws IOException {
      real().setAttribute(unwrap(path), attribute, value, options);
    }
  }
}
