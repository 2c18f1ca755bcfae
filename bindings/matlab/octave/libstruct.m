function s = libstruct(structtype, initial)
% LIBSTRUCT  A struct of the named C struct type, fields zeroed or taken from INITIAL (GNU
% Octave implementation; returns a plain struct that calllib accepts for struct pointers).
  libs = __labcam_libs__();
  keys = libs.keys();
  s = [];
  for k = 1:numel(keys)
    lib = libs(keys{k});
    if isKey(lib.structs, structtype)
      def = lib.structs(structtype);
      s = struct();
      for f = 1:numel(def.names)
        s.(def.names{f}) = cast(0, __labcam_class__(def.types{f}));
      end
      break;
    end
  end
  if isempty(s)
    error('libstruct:unknown', 'no loaded library defines struct %s', structtype);
  end
  if nargin > 1
    names = fieldnames(initial);
    for f = 1:numel(names)
      s.(names{f}) = initial.(names{f});
    end
  end
end
