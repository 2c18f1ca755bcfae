function cls = __labcam_class__(ctype)
% The Octave class of a C scalar type.
  switch strrep(strrep(strtrim(ctype), 'const ', ''), ' *', '')
    case 'int32_t', cls = 'int32';
    case 'uint32_t', cls = 'uint32';
    case {'int64_t'}, cls = 'int64';
    case {'uint64_t', 'labcam_handle'}, cls = 'uint64';
    case 'double', cls = 'double';
    case 'char', cls = 'char';
    otherwise, error('calllib:type', 'unsupported C type %s', ctype);
  end
end
