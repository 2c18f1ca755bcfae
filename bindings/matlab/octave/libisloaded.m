function tf = libisloaded(name)
% LIBISLOADED  True when a library was loaded under NAME (GNU Octave implementation).
  tf = isKey(__labcam_libs__(), name);
end
