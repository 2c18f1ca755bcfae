function ids = list_cameras(backend)
% LABCAM.LIST_CAMERAS  Camera ids ('sim:0', 'aravis:...') of one backend, or of all.
  labcam.load();
  if nargin < 1
    backend = '';
  end
  [st, ~, s] = calllib('labcam', 'labcam_list_cameras', backend, blanks(65536), 65536, 0);
  labcam.check(st);
  ids = strsplit(strtrim(s), sprintf('\n'));
  ids = ids(~cellfun(@isempty, ids));
end
