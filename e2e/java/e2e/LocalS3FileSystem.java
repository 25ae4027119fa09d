package e2e;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.BlockLocation;
import org.apache.hadoop.fs.CreateFlag;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.hadoop.fs.impl.OpenFileParameters;
import org.apache.hadoop.fs.permission.FsPermission;
import org.apache.hadoop.util.Progressable;

/**
 * The local lake's S3: s3://bucket/key is the local file {root}/bucket/key,
 * where root is the Hadoop setting fs.s3.local.root. Registered for the s3
 * (and s3a) schemes, so job code using s3:// paths runs unchanged. Every path
 * going in is translated to file:, every path coming out back to s3://.
 * Directories are real directories (S3 has only prefixes: see e2e/README.md).
 */
public class LocalS3FileSystem extends FilterFileSystem {
    private URI uri;
    private String root;
    private String scheme;

    public LocalS3FileSystem() {
        super(new RawLocalFileSystem());
    }

    @Override
    public void initialize(URI name, Configuration conf) throws IOException {
        root = conf.get("fs.s3.local.root");
        if (root == null || root.isEmpty()) {
            throw new IOException("LocalS3FileSystem: fs.s3.local.root is not set");
        }
        root = root.replaceAll("/+$", "");
        scheme = name.getScheme();
        uri = URI.create(scheme + "://" + name.getAuthority());
        fs.initialize(URI.create("file:///"), conf);
        setConf(conf);
    }

    @Override public URI getUri() { return uri; }
    @Override public String getScheme() { return scheme; }
    @Override public Path getWorkingDirectory() { return new Path(uri.toString() + "/"); }
    @Override public void setWorkingDirectory(Path p) { }
    @Override public Path getHomeDirectory() { return getWorkingDirectory(); }
    @Override protected void checkPath(Path path) { }

    @Override
    public Path makeQualified(Path path) {
        return path.makeQualified(getUri(), getWorkingDirectory());
    }

    private Path local(Path p) {
        URI u = makeQualified(p).toUri();
        if (u.getAuthority() == null || u.getAuthority().isEmpty()) {
            throw new IllegalArgumentException("LocalS3FileSystem: no bucket in " + p);
        }
        String key = u.getPath() == null || u.getPath().isEmpty() ? "/" : u.getPath();
        return new Path("file://" + root + "/" + u.getAuthority() + key);
    }

    private Path s3(Path p) {
        String s = p.toUri().getPath();
        String prefix = root + "/";
        if (!s.startsWith(prefix)) {
            throw new IllegalStateException("LocalS3FileSystem: " + p + " is outside " + root);
        }
        String rest = s.substring(prefix.length());
        int slash = rest.indexOf('/');
        String bucket = slash < 0 ? rest : rest.substring(0, slash);
        String key = slash < 0 ? "/" : rest.substring(slash);
        return new Path(scheme + "://" + bucket + key);
    }

    private FileStatus back(FileStatus st) throws IOException {
        FileStatus out = new FileStatus(st);
        out.setPath(s3(st.getPath()));
        return out;
    }

    @Override public FSDataInputStream open(Path f, int bufferSize) throws IOException { return fs.open(local(f), bufferSize); }

    @Override
    public org.apache.hadoop.fs.FutureDataInputStreamBuilder openFile(Path path) throws IOException {
        return (org.apache.hadoop.fs.FutureDataInputStreamBuilder) (Object) createDataInputStreamBuilder(this, path);
    }

    @Override
    protected CompletableFuture<FSDataInputStream> openFileWithOptions(Path path, OpenFileParameters parameters) throws IOException {
        CompletableFuture<FSDataInputStream> result = new CompletableFuture<>();
        try {
            result.complete(fs.open(local(path), parameters.getBufferSize() > 0 ? parameters.getBufferSize() : 65536));
        } catch (IOException e) {
            result.completeExceptionally(e);
        }
        return result;
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, boolean overwrite, int bufferSize,
                                     short replication, long blockSize, Progressable progress) throws IOException {
        return fs.create(local(f), permission, overwrite, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataOutputStream create(Path f, FsPermission permission, EnumSet<CreateFlag> flags, int bufferSize,
                                     short replication, long blockSize, Progressable progress,
                                     org.apache.hadoop.fs.Options.ChecksumOpt checksumOpt) throws IOException {
        return fs.create(local(f), permission, flags, bufferSize, replication, blockSize, progress, checksumOpt);
    }

    @Override
    public FSDataOutputStream createNonRecursive(Path f, FsPermission permission, EnumSet<CreateFlag> flags,
                                                 int bufferSize, short replication, long blockSize,
                                                 Progressable progress) throws IOException {
        return fs.createNonRecursive(local(f), permission, flags, bufferSize, replication, blockSize, progress);
    }

    @Override
    public FSDataOutputStream append(Path f, int bufferSize, Progressable progress) throws IOException {
        return fs.append(local(f), bufferSize, progress);
    }

    @Override public boolean rename(Path src, Path dst) throws IOException { return fs.rename(local(src), local(dst)); }
    @Override public boolean delete(Path f, boolean recursive) throws IOException { return fs.delete(local(f), recursive); }
    @Override public boolean mkdirs(Path f, FsPermission permission) throws IOException { return fs.mkdirs(local(f), permission); }
    @Override public boolean mkdirs(Path f) throws IOException { return fs.mkdirs(local(f)); }
    @Override public FileStatus getFileStatus(Path f) throws IOException { return back(fs.getFileStatus(local(f))); }
    @Override public boolean exists(Path f) throws IOException { return fs.exists(local(f)); }
    @Override public void setPermission(Path p, FsPermission permission) throws IOException { fs.setPermission(local(p), permission); }
    @Override public void setTimes(Path p, long mtime, long atime) throws IOException { fs.setTimes(local(p), mtime, atime); }
    @Override public Path resolvePath(Path p) throws IOException { return getFileStatus(p).getPath(); }
    @Override public boolean hasPathCapability(Path path, String capability) throws IOException { return fs.hasPathCapability(local(path), capability); }

    @Override
    public FileStatus[] listStatus(Path f) throws IOException {
        FileStatus[] in = fs.listStatus(local(f));
        FileStatus[] out = new FileStatus[in.length];
        for (int i = 0; i < in.length; i++) out[i] = back(in[i]);
        return out;
    }

    @Override
    public BlockLocation[] getFileBlockLocations(FileStatus file, long start, long len) {
        if (file == null || file.getLen() <= start) return new BlockLocation[0];
        return new BlockLocation[] {new BlockLocation(new String[] {"localhost:9866"}, new String[] {"localhost"}, 0, file.getLen())};
    }

    private static <T> RemoteIterator<T> iterate(List<T> items) {
        return new RemoteIterator<T>() {
            private int i = 0;
            public boolean hasNext() { return i < items.size(); }
            public T next() {
                if (i >= items.size()) throw new NoSuchElementException();
                return items.get(i++);
            }
        };
    }

    @Override
    public RemoteIterator<FileStatus> listStatusIterator(Path p) throws IOException {
        List<FileStatus> all = new ArrayList<>();
        for (FileStatus st : listStatus(p)) all.add(st);
        return iterate(all);
    }

    @Override
    protected RemoteIterator<LocatedFileStatus> listLocatedStatus(Path f, PathFilter filter) throws IOException {
        List<LocatedFileStatus> all = new ArrayList<>();
        if (!exists(f)) throw new FileNotFoundException(f.toString());
        for (FileStatus st : listStatus(f)) {
            if (filter != null && !filter.accept(st.getPath())) continue;
            all.add(new LocatedFileStatus(st, st.isFile() ? getFileBlockLocations(st, 0, st.getLen()) : null));
        }
        return iterate(all);
    }

    @Override
    public RemoteIterator<LocatedFileStatus> listLocatedStatus(Path f) throws IOException {
        return listLocatedStatus(f, null);
    }
}
