classdef Camera < handle
% LABCAM.CAMERA  A camera, through labcam's C ABI (loadlibrary/calllib).
%   cam = labcam.Camera('sim');          % open ('aravis:127.0.0.1', 'andor_sdk3:0', ...)
%   cam.set_roi(0, 512, 0, 256);         % sensor pixels [hstart,hend) x [vstart,vend)
%   cam.set_exposure(0.01);              % seconds
%   frames = cam.grab(10);               % rows x cols x 10, uint16, top row first
%   delete(cam);                         % or let it go out of scope: closes the camera
% Failures raise MException 'labcam:<STATUS_NAME>' (labcam:INVALID_ARGUMENT, ...) with the
% library's message. Frames come in MATLAB's natural orientation: frame(r, c) is row r,
% column c of the image as the camera delivers it (no transposing needed).

  properties (SetAccess = private)
    handle = uint64(0);   % the labcam handle (0 once closed)
    id = '';              % the camera id it was opened with
  end

  methods
    function obj = Camera(camera_id)
      labcam.load();
      [st, ~, h] = calllib('labcam', 'labcam_open', camera_id, uint64(0));
      labcam.check(st);
      obj.handle = h;
      obj.id = camera_id;
    end

    function delete(obj)
      if obj.handle ~= 0
        calllib('labcam', 'labcam_close', obj.handle);
        obj.handle = uint64(0);
      end
    end

    function close(obj)
      h = obj.handle;
      obj.handle = uint64(0);
      labcam.check(calllib('labcam', 'labcam_close', h));
    end

    function s = info(obj)
      % Device information as a struct: backend, vendor, model, serial, sdk_version, ...
      txt = obj.str('labcam_get_device_info');
      s = struct();
      for line = strsplit(strtrim(txt), sprintf('\n'))
        kv = strsplit(line{1}, '=');
        if numel(kv) >= 2
          s.(matlab.lang.makeValidName(kv{1})) = strjoin(kv(2:end), '=');
        end
      end
    end

    function msg = last_error(obj)
      msg = obj.str('labcam_last_error');
    end

    % ---- geometry (sensor pixels)
    function sz = detector_size(obj)
      [st, w, h] = calllib('labcam', 'labcam_get_detector_size', obj.handle, 0, 0);
      obj.check(st);
      sz = double([w h]);
    end
    function r = roi(obj)
      [st, r] = calllib('labcam', 'labcam_get_roi', obj.handle, libstruct('labcam_roi'));
      obj.check(st);
      r = structfun(@double, r, 'UniformOutput', false);
    end
    function r = set_roi(obj, hstart, hend, vstart, vend, hbin, vbin)
      % Set the ROI (binning 1 by default); returns the ROI applied after rounding.
      if nargin < 6, hbin = 1; end
      if nargin < 7, vbin = hbin; end
      [st, r] = calllib('labcam', 'labcam_set_roi', obj.handle, hstart, hend, vstart, vend, hbin, vbin, libstruct('labcam_roi'));
      obj.check(st);
      r = structfun(@double, r, 'UniformOutput', false);
    end
    function l = roi_limits(obj)
      [st, l] = calllib('labcam', 'labcam_get_roi_limits', obj.handle, libstruct('labcam_roi_limits'));
      obj.check(st);
      l = structfun(@double, l, 'UniformOutput', false);
    end
    function d = data_dimensions(obj)
      % [rows cols] of frames as labcam delivers them with the current indexing.
      [st, r, c] = calllib('labcam', 'labcam_get_data_dimensions', obj.handle, 0, 0);
      obj.check(st);
      d = double([r c]);
    end
    function set_image_indexing(obj, mode)
      % 'rct' (default), 'rcb', 'xyt', 'xyb'
      obj.check(calllib('labcam', 'labcam_set_image_indexing', obj.handle, find(strcmpi(mode, {'rct', 'rcb', 'xyt', 'xyb'})) - 1));
    end
    function m = image_indexing(obj)
      [st, v] = calllib('labcam', 'labcam_get_image_indexing', obj.handle, 0);
      obj.check(st);
      modes = {'rct', 'rcb', 'xyt', 'xyb'};
      m = modes{v + 1};
    end
    function f = frame_format(obj)
      [st, f] = calllib('labcam', 'labcam_get_frame_format', obj.handle, libstruct('labcam_frame_format'));
      obj.check(st);
      f = structfun(@double, f, 'UniformOutput', false);
    end

    % ---- timing (seconds) and trigger
    function e = exposure(obj)
      [st, e] = calllib('labcam', 'labcam_get_exposure', obj.handle, 0);
      obj.check(st);
    end
    function a = set_exposure(obj, seconds)
      [st, a] = calllib('labcam', 'labcam_set_exposure', obj.handle, seconds, 0);
      obj.check(st);
    end
    function a = set_frame_period(obj, seconds)
      [st, a] = calllib('labcam', 'labcam_set_frame_period', obj.handle, seconds, 0);
      obj.check(st);
    end
    function t = frame_timings(obj)
      % [exposure frame_period] in seconds.
      [st, e, p] = calllib('labcam', 'labcam_get_frame_timings', obj.handle, 0, 0);
      obj.check(st);
      t = [e p];
    end
    function set_trigger_mode(obj, mode)
      % 'int', 'ext', 'software', 'ext_start', 'ext_exposure'
      k = find(strcmpi(mode, obj.trigger_names()));
      if isempty(k)
        error('labcam:INVALID_ARGUMENT', 'unknown trigger mode ''%s''', mode);
      end
      obj.check(calllib('labcam', 'labcam_set_trigger_mode', obj.handle, k - 1));
    end
    function m = trigger_mode(obj)
      [st, v] = calllib('labcam', 'labcam_get_trigger_mode', obj.handle, 0);
      obj.check(st);
      names = obj.trigger_names();
      m = names{v + 1};
    end
    function send_software_trigger(obj)
      obj.check(calllib('labcam', 'labcam_send_software_trigger', obj.handle));
    end

    % ---- acquisition
    function setup(obj, nframes)
      obj.check(calllib('labcam', 'labcam_setup_acquisition', obj.handle, nframes));
    end
    function clear(obj)
      obj.check(calllib('labcam', 'labcam_clear_acquisition', obj.handle));
    end
    function start(obj)
      obj.check(calllib('labcam', 'labcam_start', obj.handle));
    end
    function start_sequence(obj, nframes)
      % An acquisition that ends by itself after NFRAMES kept frames (labcam_start_sequence).
      obj.check(calllib('labcam', 'labcam_start_sequence', obj.handle, int64(nframes)));
    end
    function stop(obj)
      obj.check(calllib('labcam', 'labcam_stop', obj.handle));
    end
    function s = state(obj)
      % 'OPEN', 'SET_UP', 'RUNNING' or 'FAULT'
      [st, v] = calllib('labcam', 'labcam_get_acquisition_state', obj.handle, 0);
      obj.check(st);
      names = {'OPEN', 'SET_UP', 'RUNNING', 'FAULT'};
      s = names{v};
    end
    function wait(obj, nframes, timeout)
      % Wait for NFRAMES unread frames (default 1), TIMEOUT seconds (default: no limit).
      if nargin < 2, nframes = 1; end
      if nargin < 3, timeout = -1; end
      obj.check(calllib('labcam', 'labcam_wait', obj.handle, nframes, timeout));
    end
    function cancel_wait(obj)
      obj.check(calllib('labcam', 'labcam_cancel_wait', obj.handle));
    end
    function s = status(obj)
      % acquired, read, unread, lost_overwritten, lost_device, buffer_frames, ...
      [st, s] = calllib('labcam', 'labcam_get_frames_status', obj.handle, libstruct('labcam_frames_status'));
      obj.check(st);
      s = structfun(@double, s, 'UniformOutput', false);
    end

    % ---- reading: frames are rows x cols x n arrays, infos a struct array
    function [frames, infos] = read(obj, max_frames, peek)
      % Up to MAX_FRAMES (default: all) oldest unread frames; PEEK leaves them unread.
      if nargin < 2, max_frames = obj.status().unread; end
      if nargin < 3, peek = false; end
      [buf, fb] = obj.buffer(max(max_frames, 1));
      infos = repmat(libstruct('labcam_frame_info'), 1, max(max_frames, 1));
      [st, buf, infos, n] = calllib('labcam', 'labcam_read_chunk', obj.handle, buf, numel(buf) * fb.bytes_per_pixel, max_frames, double(logical(peek)), infos, 0);
      obj.check(st);
      frames = obj.orient(buf, n);
      infos = infos(1:n);
    end
    function [frame, info] = read_newest(obj)
      buf = obj.buffer(1);
      [st, buf, info] = calllib('labcam', 'labcam_read_newest', obj.handle, buf, obj.frame_format().frame_bytes, libstruct('labcam_frame_info'));
      obj.check(st);
      frame = obj.orient(buf, 1);
    end
    function [frame, info] = snap(obj, timeout)
      if nargin < 2, timeout = 10; end
      buf = obj.buffer(1);
      [st, buf, info] = calllib('labcam', 'labcam_snap', obj.handle, buf, obj.frame_format().frame_bytes, timeout, libstruct('labcam_frame_info'));
      obj.check(st);
      frame = obj.orient(buf, 1);
    end
    function [frames, infos] = grab(obj, n, timeout)
      if nargin < 3, timeout = 10; end
      buf = obj.buffer(n);
      infos = repmat(libstruct('labcam_frame_info'), 1, n);
      [st, buf, infos, got] = calllib('labcam', 'labcam_grab', obj.handle, n, buf, obj.frame_format().frame_bytes * n, timeout, infos, 0);
      obj.check(st);
      frames = obj.orient(buf, got);
    end

    % ---- attributes
    function names = attr_names(obj)
      [st, n] = calllib('labcam', 'labcam_attr_count', obj.handle, 0);
      obj.check(st);
      names = cell(1, double(n));
      for k = 1:double(n)
        [st, names{k}] = calllib('labcam', 'labcam_attr_name', obj.handle, k - 1, blanks(256), 256, 0);
        obj.check(st);
      end
    end
    function i = attr_info(obj, name)
      % kind ('INT', 'FLOAT', 'BOOL', 'ENUM', 'STRING', 'COMMAND'), readable, writable, limits
      [st, ~, i] = calllib('labcam', 'labcam_attr_info', obj.handle, name, libstruct('labcam_attr_info'));
      obj.check(st);
      i = structfun(@double, i, 'UniformOutput', false);
      kinds = {'INT', 'FLOAT', 'BOOL', 'ENUM', 'STRING', 'COMMAND'};
      i.kind = kinds{i.kind};
    end
    function v = enum_values(obj, name)
      i = obj.attr_info(name);
      v = cell(1, i.enum_count);
      for k = 1:i.enum_count
        [st, ~, v{k}] = calllib('labcam', 'labcam_attr_enum_value', obj.handle, name, k - 1, blanks(256), 256, 0);
        obj.check(st);
      end
    end
    function v = get(obj, name)
      % The attribute's value, by its kind: int64, double, logical, or char (enum name).
      switch obj.attr_info(name).kind
        case 'INT'
          [st, ~, v] = calllib('labcam', 'labcam_get_attr_int', obj.handle, name, 0);
        case 'FLOAT'
          [st, ~, v] = calllib('labcam', 'labcam_get_attr_float', obj.handle, name, 0);
        case 'BOOL'
          [st, ~, v] = calllib('labcam', 'labcam_get_attr_bool', obj.handle, name, 0);
          v = logical(v);
        case 'COMMAND'
          error('labcam:ATTR_TYPE', 'attribute ''%s'' is a command: use cam.command', name);
        otherwise
          [st, ~, v] = calllib('labcam', 'labcam_get_attr_string', obj.handle, name, blanks(4096), 4096, 0);
      end
      obj.check(st);
    end
    function set(obj, name, value)
      % Set by the attribute's kind; an enum takes its entry name (char) or index (number).
      switch obj.attr_info(name).kind
        case 'INT'
          st = calllib('labcam', 'labcam_set_attr_int', obj.handle, name, value);
        case 'FLOAT'
          st = calllib('labcam', 'labcam_set_attr_float', obj.handle, name, value);
        case 'BOOL'
          st = calllib('labcam', 'labcam_set_attr_bool', obj.handle, name, double(logical(value)));
        case 'ENUM'
          if ischar(value)
            st = calllib('labcam', 'labcam_set_attr_string', obj.handle, name, value);
          else
            st = calllib('labcam', 'labcam_set_attr_int', obj.handle, name, value);
          end
        case 'STRING'
          st = calllib('labcam', 'labcam_set_attr_string', obj.handle, name, value);
        otherwise
          error('labcam:ATTR_TYPE', 'attribute ''%s'' is a command: use cam.command', name);
      end
      obj.check(st);
    end
    function command(obj, name)
      obj.check(calllib('labcam', 'labcam_attr_command', obj.handle, name));
    end
  end

  methods (Access = private)
    function check(obj, st)
      labcam.check(st, obj.handle);
    end
    function s = str(obj, fname)
      [st, s] = calllib('labcam', fname, obj.handle, blanks(65536), 65536, 0);
      obj.check(st);
    end
    function [buf, f] = buffer(obj, n)
      % A destination for N frames: cols x rows x N of the pixel class (row-major frames).
      f = obj.frame_format();
      d = obj.data_dimensions();
      classes = {'uint8', 'uint16', 'uint32'};
      buf = zeros(d(2), d(1), n, classes{f.pixel_kind});
    end
    function frames = orient(~, buf, n)
      % labcam's frames are row-major; MATLAB's arrays column-major: swap the first two axes.
      frames = permute(buf(:, :, 1:double(n)), [2 1 3]);
    end
  end

  methods (Static, Access = private)
    function n = trigger_names()
      n = {'int', 'ext', 'software', 'ext_start', 'ext_exposure'};
    end
  end
end
