% Tests of the labcam MATLAB package, run in GNU Octave against the simulated camera:
%   octave --no-gui --no-window-system bindings/matlab/tests/run_tests.m
% Every method of labcam.Camera, error identifiers, and pixel values (orientation included).
here = fileparts(mfilename('fullpath'));
if exist('OCTAVE_VERSION', 'builtin')
  warning('off', 'Octave:shadowed-function');
  addpath(fullfile(here, '..', 'octave'));
end
addpath(fullfile(here, '..'));
failures = 0;
function ok = expect(cond, what)
  ok = cond;
  if ~cond
    fprintf(2, 'FAILED: %s\n', what);
  end
end
function ok = expect_error(f, id, part)
  ok = false;
  try
    f();
    fprintf(2, 'FAILED: expected %s\n', id);
  catch e
    ok = strcmp(e.identifier, id) && ~isempty(strfind(e.message, part));
    if ~ok
      fprintf(2, 'FAILED: expected %s containing "%s", got %s: %s\n', id, part, e.identifier, e.message);
    end
  end
end
pix = @(n, x, y) uint16(mod(x + 2053 * y + 7919 * n, 65536));
t = {};

% library-level
v = labcam.version();
t{end+1} = expect(numel(v) == 3 && v(1) == 0, 'version');
t{end+1} = expect(any(strcmp(labcam.list_backends(), 'sim')), 'list_backends');
t{end+1} = expect(any(strcmp(labcam.list_cameras('sim'), 'sim:0')), 'list_cameras');
t{end+1} = expect_error(@() labcam.Camera('nosuch:0'), 'labcam:NOT_FOUND', 'nosuch');

cam = labcam.Camera('sim');
i = cam.info();
t{end+1} = expect(strcmp(i.backend, 'sim') && strcmp(i.serial, 'SIM-00000'), 'info');
t{end+1} = expect(isequal(cam.detector_size(), [2048 2048]), 'detector_size');
l = cam.roi_limits();
t{end+1} = expect(l.width_step == 4 && l.max_hbin == 4, 'roi_limits');

% ROI, binning, dimensions, format (positions and sizes rounded down: 65 -> 64, 37 -> 36)
r = cam.set_roi(10, 75, 3, 40, 1, 1);
t{end+1} = expect(r.hstart == 8 && r.hend == 72 && r.vstart == 2 && r.vend == 38, 'set_roi rounds down');
t{end+1} = expect(isequal(cam.roi(), r), 'roi');
t{end+1} = expect(isequal(cam.data_dimensions(), [36 64]), 'data_dimensions');
f = cam.frame_format();
t{end+1} = expect(f.width == 64 && f.height == 36 && f.bytes_per_pixel == 2, 'frame_format');
t{end+1} = expect_error(@() cam.set_roi(0, 5000, 0, 10), 'labcam:INVALID_ARGUMENT', 'labcam_set_roi');
t{end+1} = expect_error(@() cam.set_roi(0, 64, 0, 64, 3, 3), 'labcam:INVALID_ARGUMENT', 'binning 3');

% timing and trigger
t{end+1} = expect(abs(cam.set_exposure(0.001) - 0.001) < 1e-12 && abs(cam.exposure() - 0.001) < 1e-12, 'exposure');
p = cam.set_frame_period(0.005);
tm = cam.frame_timings();
t{end+1} = expect(abs(p - 0.005) < 1e-12 && abs(tm(2) - 0.005) < 1e-12, 'frame period');
t{end+1} = expect_error(@() cam.set_exposure(100), 'labcam:INVALID_ARGUMENT', 'exposure 100');
cam.set_trigger_mode('software');
t{end+1} = expect(strcmp(cam.trigger_mode(), 'software'), 'trigger_mode');
t{end+1} = expect_error(@() cam.set_trigger_mode('ext_exposure'), 'labcam:NOT_SUPPORTED', 'EXT_EXPOSURE');
t{end+1} = expect_error(@() cam.send_software_trigger(), 'labcam:WRONG_STATE', 'running');

% snap: MATLAB orientation (rows x cols), pixel-exact
cam.set_trigger_mode('int');
[fr, info] = cam.snap(5);
t{end+1} = expect(isequal(size(fr), [36 64]) && isa(fr, 'uint16'), 'snap shape and class');
[xx, yy] = meshgrid(r.hstart + (0:63), r.vstart + (0:35));
t{end+1} = expect(isequal(fr, pix(double(info.framestamp), xx, yy)), 'snap pixels, row r column c');

% grab with binning
r2 = cam.set_roi(0, 128, 0, 32, 2, 2);
[frs, infos] = cam.grab(4, 5);
t{end+1} = expect(isequal(size(frs), [16 64 4]), 'grab shape');
[xx, yy] = meshgrid(0:2:126, 0:2:30);
okp = true;
for k = 1:4
  okp = okp && isequal(frs(:, :, k), pix(double(infos(k).framestamp), xx, yy));
end
t{end+1} = expect(okp && isequal(double([infos.index]), 0:3), 'grab pixels and order');

% continuous acquisition, wait, read (peek), status, read_newest
cam.set('RealTimePacing', false);
cam.setup(64);
t{end+1} = expect(strcmp(cam.state(), 'SET_UP'), 'state SET_UP');
cam.start();
t{end+1} = expect(strcmp(cam.state(), 'RUNNING'), 'state RUNNING');
cam.wait(10, 5);
cam.stop();
s = cam.status();
t{end+1} = expect(s.acquired == s.read + s.unread + s.lost_overwritten, 'accounting');
[pk, ipk] = cam.read(3, true);
t{end+1} = expect(cam.status().unread == s.unread, 'peek leaves frames unread');
[rd, ird] = cam.read(3);
t{end+1} = expect(isequal(pk, rd) && isequal([ipk.index], [ird.index]) && cam.status().read == 3, 'read');
[nw, inw] = cam.read_newest();
t{end+1} = expect(inw.index == cam.status().last_index && cam.status().unread == 0, 'read_newest');
t{end+1} = expect_error(@() cam.read_newest(), 'labcam:NOT_FOUND', 'no unread frame');
cam.start_sequence(20);
cam.wait(20, 5);
t{end+1} = expect_error(@() cam.wait(21, 5), 'labcam:WRONG_STATE', 'ended after its 20 frames');
t{end+1} = expect(cam.status().acquired == 20, 'start_sequence keeps exactly its frames');
cam.stop();
cam.set_trigger_mode('software');
cam.start();
t{end+1} = expect_error(@() cam.wait(1, 0.1), 'labcam:TIMEOUT', '0 of 1');
cam.send_software_trigger();
cam.wait(1, 5);
cam.cancel_wait();
cam.stop();
cam.clear();
t{end+1} = expect(strcmp(cam.state(), 'OPEN'), 'clear');
t{end+1} = expect_error(@() cam.stop(), 'labcam:WRONG_STATE', 'not acquiring');

% indexing
cam.set_trigger_mode('int');
cam.set_roi(0, 64, 0, 16);
cam.set_image_indexing('xyb');
t{end+1} = expect(strcmp(cam.image_indexing(), 'xyb') && isequal(cam.data_dimensions(), [64 16]), 'indexing');
cam.set_image_indexing('rct');

% attributes
names = cam.attr_names();
t{end+1} = expect(numel(names) > 15 && any(strcmp(names, 'Gain')), 'attr_names');
ai = cam.attr_info('Gain');
t{end+1} = expect(strcmp(ai.kind, 'ENUM') && ai.enum_count == 3, 'attr_info');
t{end+1} = expect(isequal(cam.enum_values('Gain'), {'Low', 'Medium', 'High'}), 'enum_values');
cam.set('Gain', 'High');
t{end+1} = expect(strcmp(cam.get('Gain'), 'High'), 'enum by name');
cam.set('Gain', 0);
t{end+1} = expect(strcmp(cam.get('Gain'), 'Low'), 'enum by index');
cam.set('BlackLevel', 200);
t{end+1} = expect(cam.get('BlackLevel') == 200 && isa(cam.get('BlackLevel'), 'int64'), 'int attribute');
cam.set('TemperatureSetpoint', -10.5);
t{end+1} = expect(cam.get('TemperatureSetpoint') == -10.5, 'float attribute');
cam.set('RealTimePacing', true);
t{end+1} = expect(cam.get('RealTimePacing') == true, 'bool attribute');
cam.set('DeviceUserName', 'left arm');
t{end+1} = expect(strcmp(cam.get('DeviceUserName'), 'left arm'), 'string attribute');
cam.command('TimestampReset');
t{end+1} = expect_error(@() cam.get('Nope'), 'labcam:NOT_FOUND', 'Nope');
t{end+1} = expect_error(@() cam.set('BlackLevel', 5000), 'labcam:INVALID_ARGUMENT', '5000');
t{end+1} = expect_error(@() cam.set('SerialNumber', 'x'), 'labcam:NOT_SUPPORTED', 'read-only');
t{end+1} = expect_error(@() labcam.check(calllib('labcam', 'labcam_get_attr_float', cam.handle, 'Gain', 0), cam.handle), 'labcam:ATTR_TYPE', 'Gain');
t{end+1} = expect(~isempty(strfind(cam.last_error(), 'labcam_get_attr_float')), 'last_error');

% close: the handle is then invalid
h = cam.handle;
cam.close();
t{end+1} = expect_error(@() labcam.check(calllib('labcam', 'labcam_close', h), h), 'labcam:INVALID_HANDLE', 'closed');
t{end+1} = expect_error(@() cam.info(), 'labcam:INVALID_HANDLE', 'handle');
delete(cam);

% libpointer, as MATLAB code written for loadlibrary uses it
p = libpointer('int64Ptr', int64(0));
cam2 = labcam.Camera('sim');
calllib('labcam', 'labcam_attr_count', cam2.handle, p);
t{end+1} = expect(p.Value > 15, 'libpointer');
delete(cam2);

failed = sum(~[t{:}]);
printf('%d of %d MATLAB binding checks passed\n', numel(t) - failed, numel(t));
if failed
  exit(1);
end
exit(0);
