function varargout = calllib(libname, funcname, varargin)
% CALLLIB  Call a function of a library loaded with loadlibrary (GNU Octave implementation,
% following MATLAB's documented semantics):
%   [ret, p1, p2, ...] = calllib(LIB, FUNC, arg1, arg2, ...)
% returns the function's return value, then the value after the call of every pointer
% argument, in order. Scalars pass by value; char* takes a char array (for an output buffer,
% one at least as long as the buffer size argument that follows it, e.g. blanks(256)) and
% returns the string up to its NUL; void* takes a numeric array and returns it, same class and
% shape, after the call; T* takes a scalar (or [] for NULL) and returns the value; struct X*
% takes a struct (array) with X's fields and returns it. A libpointer argument passes its
% Value and receives the new one.
  libs = __labcam_libs__();
  if ~isKey(libs, libname)
    error('calllib:notloaded', 'library %s is not loaded', libname);
  end
  lib = libs(libname);
  if ~isKey(lib.functions, funcname)
    error('calllib:nofunction', 'library %s has no function %s', libname, funcname);
  end
  fn = lib.functions(funcname);
  params = fn.params;
  if numel(varargin) ~= numel(params)
    error('calllib:nargs', '%s takes %d arguments, %d given', funcname, numel(params), numel(varargin));
  end
  kinds = cell(1, numel(params));
  args = cell(1, numel(params));
  back = cell(1, numel(params));   % how to turn each returned buffer into a value
  for k = 1:numel(params)
    t = params{k}.type;
    v = varargin{k};
    ptr = [];
    if isa(v, 'libpointer')
      ptr = v;
      v = v.Value;
    end
    isptr = any(t == '*');
    if ~isptr
      switch __labcam_class__(t)
        case 'int32', kinds{k} = 'i32';
        case 'uint32', kinds{k} = 'u32';
        case 'int64', kinds{k} = 'i64';
        case 'uint64', kinds{k} = 'u64';
        case 'double', kinds{k} = 'f64';
      end
      args{k} = cast(v, __labcam_class__(t));
      continue;
    end
    kinds{k} = 'ptr';
    base = strtrim(strrep(strrep(t, 'const ', ''), '*', ''));
    if strncmp(base, 'struct ', 7)
      sname = strtrim(base(8:end));
      def = lib.structs(sname);
      [args{k}, back{k}] = pack_struct(v, def);
    elseif strcmp(base, 'char')
      if isempty(v)
        v = '';
      end
      bytes = uint8(v(:)');
      n = numel(bytes) + 1;
      % An output buffer followed by its size: make sure the size fits.
      if k < numel(params) && strcmp(params{k + 1}.name, 'cap')
        n = max(n, double(varargin{k + 1}));
      end
      buf = zeros(1, n, 'uint8');
      buf(1:numel(bytes)) = bytes;
      args{k} = buf;
      back{k} = @(b) char(b(1:find([b 0] == 0, 1) - 1));
    elseif strcmp(base, 'void')
      cls = class(v);
      sz = size(v);
      if isempty(v)
        args{k} = zeros(0, 0, 'uint8');
      else
        args{k} = typecast(v(:)', 'uint8');
      end
      back{k} = @(b) reshape_back(b, cls, sz);
    else
      cls = __labcam_class__(base);
      if isempty(v)
        args{k} = zeros(0, 0, 'uint8');
        back{k} = @(b) [];
      else
        args{k} = typecast(cast(v(:)', cls), 'uint8');
        back{k} = @(b) typecast(b, cls);
      end
    end
    back{k} = struct('fn', back{k}, 'ptr', ptr);
  end
  out = cell(1, 1 + sum(strcmp(kinds, 'ptr')));
  [out{:}] = labcam_ffi('call', lib.handle, funcname, fn.ret, kinds, args);
  varargout{1} = out{1};
  j = 1;
  for k = 1:numel(params)
    if ~strcmp(kinds{k}, 'ptr')
      continue;
    end
    j = j + 1;
    value = back{k}.fn(out{j});
    if ~isempty(back{k}.ptr)
      back{k}.ptr.Value = value;
    end
    varargout{j} = value;
  end
end

function v = reshape_back(b, cls, sz)
  if isempty(b)
    v = zeros(sz, cls);
  else
    v = reshape(typecast(b, cls), sz);
  end
end

function [buf, back] = pack_struct(v, def)
% Structs of 8-byte fields: int64, uint64 or double, in declaration order.
  if isempty(v)
    buf = zeros(0, 0, 'uint8');
    back = @(b) [];
    return;
  end
  n = numel(v);
  nf = numel(def.names);
  buf = zeros(1, 8 * nf * n, 'uint8');
  for i = 1:n
    for f = 1:nf
      if isfield(v(i), def.names{f})
        x = v(i).(def.names{f});
      else
        x = 0;
      end
      o = 8 * ((i - 1) * nf + f - 1);
      buf(o + 1:o + 8) = typecast(cast(x, __labcam_class__(def.types{f})), 'uint8');
    end
  end
  back = @(b) unpack_struct(b, def, n);
end

function s = unpack_struct(b, def, n)
  nf = numel(def.names);
  s = struct();
  for i = 1:n
    for f = 1:nf
      o = 8 * ((i - 1) * nf + f - 1);
      s(i).(def.names{f}) = typecast(b(o + 1:o + 8), __labcam_class__(def.types{f}));
    end
  end
end
