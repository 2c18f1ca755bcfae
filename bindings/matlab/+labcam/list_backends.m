function names = list_backends()
% LABCAM.LIST_BACKENDS  Names of the compiled-in backends.
  labcam.load();
  [st, s] = calllib('labcam', 'labcam_list_backends', blanks(4096), 4096, 0);
  labcam.check(st);
  names = strsplit(strtrim(s), sprintf('\n'));
end
