function loadlibrary(libname, hfile, varargin)
% LOADLIBRARY  Load a shared library and its C header (GNU Octave implementation).
%   loadlibrary(LIBPATH, HEADER) loads LIBPATH and reads the prototypes and structs of HEADER,
%   as MATLAB's loadlibrary does for the types labcam's header uses (fixed-width integers,
%   double, char*, void*, pointers to those, pointers to structs of 8-byte fields).
%   loadlibrary(..., 'alias', NAME) names the library NAME (default: the file name without
%   its extension). Part of labcam's Octave support; MATLAB has its own loadlibrary.
  alias = '';
  for k = 1:2:numel(varargin)
    if strcmpi(varargin{k}, 'alias')
      alias = varargin{k + 1};
    end
  end
  [~, base] = fileparts(libname);
  if isempty(alias)
    alias = base;
  end
  libs = __labcam_libs__();
  if isKey(libs, alias)
    return;
  end
  text = fileread(hfile);
  text = regexprep(text, '/\*.*?\*/', '');
  text = regexprep(text, '//[^\n]*', '');
  lib.handle = labcam_ffi('open', libname);
  lib.structs = containers.Map();
  toks = regexp(text, 'struct\s+(\w+)\s*\{([^}]*)\}\s*;', 'tokens');
  for k = 1:numel(toks)
    fields = strtrim(strsplit(toks{k}{2}, ';'));
    fields = fields(~cellfun(@isempty, fields));
    names = cell(1, numel(fields));
    types = cell(1, numel(fields));
    for f = 1:numel(fields)
      parts = strsplit(regexprep(fields{f}, '\s+', ' '), ' ');
      types{f} = parts{1};
      names{f} = parts{end};
    end
    lib.structs(toks{k}{1}) = struct('names', {names}, 'types', {types});
  end
  lib.functions = containers.Map();
  toks = regexp(text, '(int32_t|void)\s+(\w+)\s*\(([^)]*)\)\s*;', 'tokens');
  for k = 1:numel(toks)
    args = strtrim(strsplit(regexprep(toks{k}{3}, '\s+', ' '), ','));
    if numel(args) == 1 && (isempty(args{1}) || strcmp(args{1}, 'void'))
      args = {};
    end
    params = cell(1, numel(args));
    for a = 1:numel(args)
      m = regexp(args{a}, '^(.*?)(\w+)$', 'tokens', 'once');
      params{a} = struct('type', regexprep(strtrim(m{1}), '\s*\*', ' *'), 'name', m{2});
    end
    lib.functions(toks{k}{2}) = struct('ret', toks{k}{1}, 'params', {params});
  end
  libs(alias) = lib;
end
